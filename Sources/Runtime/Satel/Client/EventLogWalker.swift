/// Walks the event log back from the newest record to the caller's cursor and hands the records over
/// oldest first (doc §6.6). A value type driven by the connection state machine: `start()` and each
/// `handle(_:)` say what to request next or that the walk is over.
struct EventLogWalker: Sendable {
    enum Step: Equatable {
        case request(EventLogIndex)
        case finished(EventBatch?)
    }

    /// The last record handed out (or the configured starting point).
    private(set) var cursor: EventLogCursor?
    private var pendingNewestCount: Int?
    private var skipHistory: Bool
    private let maximumRecordsPerWalk: Int

    private var collected: [LoggedEvent] = []
    private var visited: Set<EventLogIndex> = []
    private var overwritten = false
    private(set) var isWalking = false

    init(start: EventLogStart, maximumRecordsPerWalk: Int) {
        self.maximumRecordsPerWalk = max(1, maximumRecordsPerWalk)
        switch start {
        case .newest:
            skipHistory = true
        case .after(let cursor):
            self.cursor = cursor
            skipHistory = false
        case .newestRecords(let count):
            pendingNewestCount = max(0, count)
            skipHistory = false
        }
    }

    mutating func start() -> Step {
        collected = []
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
        if collected.count >= maximumRecordsPerWalk {
            return finish(reachedEnd: true, looped: true)
        }
        return .request(answer.index)
    }

    private mutating func finish(reachedEnd: Bool, looped: Bool = false) -> Step {
        isWalking = false
        defer {
            collected = []
            visited = []
        }
        let newestFirst = collected
        let wasNewestCount = pendingNewestCount != nil
        pendingNewestCount = nil
        guard let newest = newestFirst.first else {
            return .finished(nil)
        }
        // Without a cursor (first walk of `.newestRecords`), reaching the end is no loss.
        let gap = (looped || overwritten || (reachedEnd && cursor != nil)) && !wasNewestCount
        cursor = newest.cursor
        return .finished(EventBatch(events: newestFirst.reversed(), cursor: newest.cursor, gap: gap))
    }
}
