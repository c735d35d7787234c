import Foundation
import Generated
import Satel

/// One panel while this worker holds its lease: what every write needs to prove ownership and attribute rows.
struct OwnedPanel: Sendable, Hashable {
    var id: UUID
    var siteID: UUID
    var fencingToken: Int64
    var workerID: String
}

/// A panel row as the worker needs it when it takes the panel over.
struct PanelRecord: Sendable {
    var id: UUID
    var siteID: UUID
    var host: String
    var port: Int
    var integrationKey: String?
    var pollIntervalMilliseconds: Int
    /// Push, poll or auto (`panels.mode`).
    var mode: PanelMode
    /// `panels.signal_period_s`: a pushing module is checked (keepalive) at least three times within it.
    var signalPeriodSeconds: Int
    /// The committed cursor with its record (from the panel event at that index), nil before the first commit.
    var cursor: EventLogCursor?
    /// `panels.event_log_cursor` as stored: NULL never read, -1 the empty-log baseline, else the cursor's index.
    var storedCursorIndex: Int?
    var mirror: PanelMirror

    /// The log was empty when monitoring started (stored cursor -1): every record is new, read from the start.
    var emptyLogBaseline: Bool { storedCursorIndex == PanelStore.emptyLogCursor }
    /// No cursor was ever stored (NULL): the first full read sets the baseline. A stored cursor whose record is
    /// gone is not "never read", and is never replaced by the empty-log baseline.
    var logNeverRead: Bool { storedCursorIndex == nil }
    /// A cursor is stored but the panel event it names is not there (so its record cannot be compared).
    var cursorRecordMissing: Bool { cursor == nil && !logNeverRead && !emptyLogBaseline }

    /// Where the client starts reading the log: after the committed cursor; after its index alone when its record is
    /// gone (never at the newest record, which would skip every record in between without a word); from the start
    /// of a log that was empty when monitoring began; at the newest record of a log never read (history).
    var eventLogStart: EventLogStart {
        if let cursor { return .after(cursor) }
        if cursorRecordMissing, let index = storedCursorIndex { return .afterIndex(EventLogIndex(rawValue: UInt32(index))) }
        return emptyLogBaseline ? .everything : .newestRecords(1)
    }
}
