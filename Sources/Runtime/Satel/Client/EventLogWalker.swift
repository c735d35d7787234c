/// Walks the event log back from the newest record to the caller's cursor (doc §6.6). A value type driven by
/// the connection state machine: `start()` and each `handle(_:)` say what to request next, what to hand over
/// now, or that the walk is over.
///
/// Newest first: a long backlog (a panel offline for a day, a worker that was down) would make the newest alarm
/// wait for every older record. So the newest `newestFirst` records are handed over as soon as they are read,
/// then the older ones in batches of `recordsPerBatch`, each batch oldest first. Only the last batch of a walk
/// carries the cursor: until it is committed the caller's stored cursor stays where it was, so a walk cut short
/// reads the same records again (the caller skips what it already stored) and nothing between is lost. The walk
/// goes back until the cursor, the end of the log, or a loop of the ring, however many records that is.
struct EventLogWalker: Sendable {
    enum Step: Equatable {
        case request(EventLogIndex)
        /// Hand these records over now (no cursor) and go on with the request.
        case deliver(EventBatch, thenRequest: EventLogIndex)
        case finished(EventBatch?)
    }

    /// The last record handed out (or the configured starting point).
    private(set) var cursor: EventLogCursor?
    /// `.afterIndex`: where to stop until the first walk hands a record out and `cursor` takes over.
    private var stopIndex: EventLogIndex?
    private var pendingNewestCount: Int?
    private var skipHistory: Bool
    private let recordsPerBatch: Int
    private let newestFirst: Int

    /// This walk's records, newest first; `delivered` of them were handed over already.
    private var collected: [LoggedEvent] = []
    private var delivered = 0
    private var visited: Set<EventLogIndex> = []
    private var overwritten = false
    private(set) var isWalking = false

    init(start: EventLogStart, recordsPerBatch: Int, newestFirst: Int = 32) {
        self.recordsPerBatch = max(1, recordsPerBatch)
        self.newestFirst = max(1, newestFirst)
        switch start {
        case .newest:
            skipHistory = true
        case .after(let cursor):
            self.cursor = cursor
            skipHistory = false
        case .afterIndex(let index):
            stopIndex = index
            skipHistory = false
        case .newestRecords(let count):
            pendingNewestCount = max(0, count)
            skipHistory = false
        case .everything:
            skipHistory = false
        }
    }

    mutating func start() -> Step {
        collected = []
        delivered = 0
        visited = []
        overwritten = false
        isWalking = true
        return .request(.newest)
    }

    mutating func handle(_ answer: EventLogAnswer) -> Step {
        guard isWalking else { return .finished(nil) }
        let record = answer.record
        // The end of the standard log: Z = 0. An empty log is a fine starting point for `.newest`: every
        // record written from now on is new.
        guard record.isPresent else {
            skipHistory = false
            return finish(reachedEnd: true)
        }
        let event = LoggedEvent(index: answer.index, record: record)
        if skipHistory {
            // First walk with `.newest`: remember where the log is, report nothing.
            skipHistory = false
            cursor = event.cursor
            isWalking = false
            return .finished(nil)
        }
        if stopIndex == answer.index {
            return finish(reachedEnd: false)
        }
        if let cursor, cursor.index == answer.index {
            if cursor.record.isSameEvent(as: record) {
                return finish(reachedEnd: false)
            }
            // The cursor's slot holds a newer record: the ring has wrapped past our position.
            overwritten = true
        }
        guard visited.insert(answer.index).inserted else { return finish(reachedEnd: true, looped: true) }
        collected.append(event)
        if let wanted = pendingNewestCount, collected.count >= wanted {
            return finish(reachedEnd: false)
        }
        if pendingNewestCount == nil, collected.count - delivered >= (delivered == 0 ? newestFirst : recordsPerBatch) {
            let batch = EventBatch(events: collected[delivered...].reversed(), cursor: nil, gap: false)
            delivered = collected.count
            return .deliver(batch, thenRequest: answer.index)
        }
        return .request(answer.index)
    }

    private mutating func finish(reachedEnd: Bool, looped: Bool = false) -> Step {
        isWalking = false
        defer {
            collected = []
            delivered = 0
            visited = []
        }
        let wasNewestCount = pendingNewestCount != nil
        pendingNewestCount = nil
        guard let newest = collected.first else {
            return .finished(nil)
        }
        // Without a cursor (first walk of `.newestRecords` or `.everything`), reaching the end is no loss.
        let gap = (looped || overwritten || (reachedEnd && (cursor != nil || stopIndex != nil))) && !wasNewestCount
        cursor = newest.cursor
        stopIndex = nil
        // The rest, oldest first, with the cursor (possibly no records: all were handed over already).
        return .finished(EventBatch(events: collected[delivered...].reversed(), cursor: newest.cursor, gap: gap))
    }
}
