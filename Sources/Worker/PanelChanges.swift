import Foundation
import Generated
import Satel

/// What one panel update means for the database: the actions `PanelMirror.handle` returns and
/// `PanelStore.commit` writes in one transaction.
struct PanelChanges: Sendable {
    struct ZoneChange: Hashable, Sendable {
        var number: Int
        var previous: PanelMirror.ZoneStatus
        var current: PanelMirror.ZoneStatus
    }

    struct PartitionChange: Hashable, Sendable {
        var number: Int
        var previous: PanelMirror.PartitionStatus
        var current: PanelMirror.PartitionStatus
    }

    struct OutputChange: Hashable, Sendable {
        var number: Int
        var active: Bool
    }

    enum ConnectionChange: Hashable, Sendable {
        case connected(PanelIdentity?)
        case disconnected(reason: String, state: PanelConnectionState)
        /// The link closed because the lease ended: the row says so, but no event (the next owner connects).
        case released
    }

    var zones: [ZoneChange] = []
    var partitions: [PartitionChange] = []
    var outputs: [OutputChange] = []
    /// Event-log records, oldest first, and the cursor to store with them.
    var logEvents: [LoggedEvent] = []
    var cursor: EventLogCursor?
    /// Records were lost between the stored cursor and this batch (the ring overwrote them).
    var gap = false
    /// The first full read found the log empty and no cursor is stored: store the "empty log" cursor, so a
    /// crash before the first record's commit cannot skip that record (it would be history otherwise).
    var emptyLogBaseline = false
    var connection: ConnectionChange?
    /// The connection's state delivery was decided or fell back to polling (`panels.state_delivery`).
    var stateDelivery: PanelStateDelivery?
    /// Only the live state (Redis) changed: troubles, clock.
    var liveStateChanged = false

    /// Takes in the changes of a later update of the same report, so both are written in one transaction (a pushed
    /// zone change and the records its walk read: the alarm does not wait behind a commit of the change alone).
    /// Only plain changes merge; a connection, a state delivery or the empty-log baseline keeps its own transaction,
    /// and `false` says the caller must write these first.
    mutating func absorb(_ later: PanelChanges) -> Bool {
        guard connection == nil, stateDelivery == nil, !emptyLogBaseline,
              later.connection == nil, later.stateDelivery == nil, !later.emptyLogBaseline else { return false }
        zones += later.zones
        partitions += later.partitions
        outputs += later.outputs
        logEvents += later.logEvents
        cursor = later.cursor ?? cursor
        gap = gap || later.gap
        liveStateChanged = liveStateChanged || later.liveStateChanged
        return true
    }

    /// Nothing to write to PostgreSQL.
    var isEmpty: Bool {
        zones.isEmpty && partitions.isEmpty && outputs.isEmpty && logEvents.isEmpty && cursor == nil && !gap && connection == nil
            && !emptyLogBaseline && stateDelivery == nil
    }
}
