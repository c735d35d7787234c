import Satel
/// When each thing that happened at a simulated panel was made, and when the module first told the client
/// about it: the instant the client's poll discovered it. The worker benchmark measures its latency from
/// there, so the poll wait (up to one interval, set by configuration, not by the worker's speed) stays out.
///
/// The simulator keeps this rather than the worker because it is the one place that knows both instants
/// without trusting the system under test. A change counts as served by the first answer that reflects it:
/// a 0x7F answer flagging a state command the change touched, or that command's own data (a read in the
/// middle of a poll cycle, or a monitoring push). Changes that touched no state bitmap (a trouble, a
/// temperature, an event only) are recorded with no commands and are never marked served.
public struct ChangeTimeline: Hashable, Sendable {
    public struct Entry: Hashable, Sendable {
        /// 1-based, one per action applied to this panel, in order (kept counting when old entries are dropped).
        public var sequence: Int
        /// Wall-clock microseconds since 1970 when the action was applied.
        public var madeAt: Int64
        /// Wall-clock microseconds since 1970 of the first answer that reflected it; nil until then.
        public var servedAt: Int64?
        /// The state commands whose bitmaps the action changed.
        public var commands: [UInt8]
    }

    /// The most entries kept; the oldest go first.
    public let capacity: Int
    public private(set) var entries: [Entry] = []
    private var nextSequence = 1
    /// Entries with commands not yet served: answers are only inspected while there are any.
    private var unserved = 0

    public init(capacity: Int = 1024) {
        self.capacity = max(1, capacity)
    }

    mutating func recordChange(commands: [UInt8], at micros: Int64) {
        if entries.count == capacity {
            let dropped = entries.removeFirst()
            if dropped.servedAt == nil && !dropped.commands.isEmpty { unserved -= 1 }
        }
        entries.append(Entry(sequence: nextSequence, madeAt: micros, servedAt: nil, commands: commands))
        nextSequence += 1
        if !commands.isEmpty { unserved += 1 }
    }

    /// Marks the changes these answers (about to be written to the client) reflect.
    /// The clock is read only when something waits (every frame of every panel passes here).
    mutating func answersServed(_ answers: [SatelResponse], at clock: () -> Int64) {
        guard unserved > 0 else { return }
        let micros = clock()
        for answer in answers {
            let reflects: (UInt8) -> Bool
            switch answer {
            case .newData(let flags): reflects = { flags.contains($0) }
            case .state(let command, _): reflects = { $0 == command.rawValue }
            default: continue
            }
            for index in entries.indices where entries[index].servedAt == nil && entries[index].commands.contains(where: reflects) {
                entries[index].servedAt = micros
                unserved -= 1
            }
        }
    }

    /// One line for the control port: `seq:madeAt:servedAt` per entry (`-` when not served), oldest first.
    var summary: String {
        "changes" + entries.map { " \($0.sequence):\($0.madeAt):\($0.servedAt.map(String.init) ?? "-")" }.joined()
    }
}
