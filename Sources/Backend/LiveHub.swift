import Foundation
import Synchronization

/// Fans live events out to the WebSocket clients of this backend. Each client gets a bounded queue: a client
/// that does not keep up (its queue is full) is disconnected rather than allowed to grow memory without
/// bound; it reconnects and re-reads the current state (snapshot plus REST), which is what a console that
/// fell behind needs anyway.
public final class LiveHub: Sendable {
    public static let defaultQueueLimit = 512

    struct Client {
        var subscription: LiveSubscription
        var continuation: AsyncStream<String>.Continuation
    }

    /// Why consoles are told to read everything again.
    public enum ResyncReason: String, Sendable {
        /// The feed was away from the broker: its queue may have expired and been declared anew.
        case reconnected
        /// A publisher's numbers skipped: the queue dropped messages (length limit) or the broker lost some.
        case gap
    }

    private let clients = Mutex<[UUID: Client]>([:])
    private let feedLive = Atomic<Bool>(true)
    private let disconnectedSlow = Atomic<Int>(0)
    private let delivered = Atomic<Int>(0)
    let queueLimit: Int

    public init(queueLimit: Int = LiveHub.defaultQueueLimit) { self.queueLimit = queueLimit }

    /// A new client: its id and the stream of messages to write to it (finished when it is dropped).
    public func connect() -> (id: UUID, messages: AsyncStream<String>) {
        let id = UUID()
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingOldest(queueLimit))
        clients.withLock { $0[id] = Client(subscription: LiveSubscription(), continuation: continuation) }
        return (id, stream)
    }

    public func disconnect(_ id: UUID) {
        clients.withLock { $0.removeValue(forKey: id) }?.continuation.finish()
    }

    public func subscribe(_ id: UUID, to subscription: LiveSubscription) {
        clients.withLock { $0[id]?.subscription = subscription }
    }

    /// Queues a message for one client (a snapshot, an acknowledgement).
    public func send(_ id: UUID, _ message: String) {
        let continuation = clients.withLock { $0[id]?.continuation }
        if case .dropped = continuation?.yield(message) { dropSlow(id) }
    }

    /// Whether the live feed is connected now; told to every console when it changes, and in each `ready`.
    public var isFeedLive: Bool { feedLive.load(ordering: .relaxed) }

    public func setFeedLive(_ live: Bool) {
        guard feedLive.exchange(live, ordering: .relaxed) != live else { return }
        sendToAll(LiveServerMessage.feed(live ? .live : .interrupted).text)
    }

    /// Every console re-reads what it shows (REST and snapshots): events may have been missed.
    public func resync(_ reason: ResyncReason) {
        sendToAll(LiveServerMessage.resync(reason: reason.rawValue).text)
    }

    private func sendToAll(_ message: String) {
        let targets = clients.withLock { table in table.map { ($0.key, $0.value.continuation) } }
        for (id, continuation) in targets {
            if case .dropped = continuation.yield(message) { dropSlow(id) }
        }
    }

    /// Queues `event` to every matching console; returns to how many.
    @discardableResult
    public func broadcast(_ event: LiveEvent) -> Int {
        let targets = clients.withLock { table in
            table.compactMap { id, client in client.subscription.matches(event) ? (id, client.continuation) : nil }
        }
        guard !targets.isEmpty else { return 0 }
        let message = event.message
        var queued = 0
        for (id, continuation) in targets {
            switch continuation.yield(message) {
            case .dropped: dropSlow(id)
            case .enqueued:
                delivered.add(1, ordering: .relaxed)
                queued += 1
            default: break
            }
        }
        return queued
    }

    private func dropSlow(_ id: UUID) {
        guard let client = clients.withLock({ $0.removeValue(forKey: id) }) else { return }
        disconnectedSlow.add(1, ordering: .relaxed)
        client.continuation.finish()
    }

    public var clientCount: Int { clients.withLock { $0.count } }
    public var slowDisconnects: Int { disconnectedSlow.load(ordering: .relaxed) }
    public var deliveredCount: Int { delivered.load(ordering: .relaxed) }
}
