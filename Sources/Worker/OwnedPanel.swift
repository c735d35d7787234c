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
    /// The log was empty when monitoring started (stored cursor -1): every record is new, read from the start.
    var emptyLogBaseline: Bool
    /// No cursor was ever stored (NULL): the first full read sets the baseline. A stored cursor whose record is
    /// gone is not "never read", and is never replaced by the empty-log baseline.
    var logNeverRead: Bool
    var mirror: PanelMirror
}
