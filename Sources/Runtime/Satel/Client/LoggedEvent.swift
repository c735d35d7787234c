/// One event-log record as the client reports it: where it sits in the log and what it says.
public struct LoggedEvent: Hashable, Sendable, Codable {
    public var index: EventLogIndex
    public var record: EventRecord

    public init(index: EventLogIndex, record: EventRecord) {
        self.index = index
        self.record = record
    }

    public var cursor: EventLogCursor { EventLogCursor(index: index, record: record) }
}

/// Records read in one walk, oldest first, and the cursor to store once they are safely processed.
public struct EventBatch: Hashable, Sendable {
    public var events: [LoggedEvent]
    /// The position after the newest record of this batch; pass it back as `EventLogStart.after` to resume.
    public var cursor: EventLogCursor?
    /// True when records were lost between the previous cursor and this batch (the ring overwrote them,
    /// or the walk hit its limit).
    public var gap: Bool

    public init(events: [LoggedEvent], cursor: EventLogCursor?, gap: Bool) {
        self.events = events
        self.cursor = cursor
        self.gap = gap
    }
}
