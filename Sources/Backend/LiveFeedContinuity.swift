import Messaging

/// Tells, for each delivery of the live queue, whether it follows its stream's previous one (`PublishStream`),
/// repeats it (a redelivery: not shown twice) or skips some (the queue expired or overflowed, the broker lost
/// messages: consoles must re-read). A value type the feed owns.
struct LiveFeedContinuity {
    enum Verdict: Equatable {
        case next
        case duplicate
        case gap(missing: UInt64)
    }

    /// Streams remembered at most: one per publisher connection (relays, the SMS agent), renewed on reconnects.
    static let streamLimit = 256

    private var last: [String: UInt64] = [:]
    private var order: [String] = []

    mutating func observe(_ delivery: Delivery) -> Verdict {
        guard let (stream, sequence) = PublishStream.position(of: delivery) else { return .next }
        guard let previous = last[stream] else {
            // A stream seen for the first time: its start may predate this queue, nothing to compare with.
            remember(stream, sequence)
            return .next
        }
        if sequence <= previous { return .duplicate }
        last[stream] = sequence
        return sequence == previous + 1 ? .next : .gap(missing: sequence - previous - 1)
    }

    /// After a reconnect the queue may be a new one: every stream starts over.
    mutating func reset() {
        last = [:]
        order = []
    }

    private mutating func remember(_ stream: String, _ sequence: UInt64) {
        last[stream] = sequence
        order.append(stream)
        if order.count > Self.streamLimit { last[order.removeFirst()] = nil }
    }
}
