/// Where a reader of the event log stopped: the index of the last record it took, and the record itself.
///
/// The index alone is not enough: the log is a ring, so once it wraps the same index names a newer record.
/// Keeping the record's bytes lets the walker tell "my record" from "a record in my old slot".
public struct EventLogCursor: Hashable, Sendable, Codable {
    public var index: EventLogIndex
    public var record: EventRecord

    public init(index: EventLogIndex, record: EventRecord) {
        self.index = index
        self.record = record
    }
}

/// Where the client starts reading the event log after it connects.
public enum EventLogStart: Hashable, Sendable {
    /// Skip history: only records written after the client first connected are reported.
    case newest
    /// Report every record after this cursor (the caller's last committed position).
    case after(EventLogCursor)
    /// Report every record after this index, whose record is not known (the caller stored the index, but the record
    /// it stored with it is gone). The walk stops at the index whatever record it holds now: a ring that wrapped past
    /// it cannot be told from one that did not, so records it overwrote go unnoticed. Never a reason to skip to the
    /// newest record, which would drop every record in between without a word.
    case afterIndex(EventLogIndex)
    /// Report the newest `count` records once, then follow new ones (the installer's probe uses this).
    case newestRecords(Int)
    /// Report every record in the log, then follow new ones (a log that was empty when monitoring began: each
    /// record in it now was written since).
    case everything
}
