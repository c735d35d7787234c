import Foundation
import Logging
import StamCore

/// Receives from one queue with manual acknowledgements and a prefetch window. After a lost connection the
/// broker redelivers everything unacknowledged; acks for deliveries of the old connection are ignored.
///
/// A dead broker is noticed within bounded time whatever way it died: a closed socket at once, a silent
/// one after two missed heartbeats, an unanswered method (`basic.consume` on a queue the broker cannot
/// serve) after `AMQPConfiguration.callTimeoutSeconds`. The call then throws, and later calls reconnect
/// with the slot's back-off (waiting it out, up to their timeout, rather than failing at once).
public final class QueueConsumer: Sendable {
    private let thread: OwnerThread
    private let slot: ConnectionSlot
    private let queue: String
    private let prefetch: UInt16
    private let consuming = ConsumingFlag()

    /// - Parameter instance: names per-instance queues (`backend.live.<instance>`).
    public init(configuration: AMQPConfiguration, topology: MessagingTopology, queue: String, instance: String? = nil,
                prefetch: UInt16 = 100, logger: Logger) {
        let slot = ConnectionSlot(configuration: configuration, topology: topology, instance: instance, confirms: false, logger: logger)
        self.slot = slot
        self.queue = topology.queues.first { $0.name == queue }.map { AMQPConnection.queueName($0, instance: instance) } ?? queue
        self.prefetch = prefetch
        // No idle pump here: reading frames while idle would swallow deliveries. The consumer calls into
        // rabbitmq-c often (every `next`), which sends the heartbeats.
        thread = OwnerThread(name: "amqp-consumer", idleInterval: 1)
    }

    /// The next delivery, or nil if none arrived within `timeout`.
    public func next(timeout: TimeInterval = 1) async throws -> Delivery? {
        let (slot, queue, prefetch, consuming) = (self.slot, self.queue, self.prefetch, self.consuming)
        return try await thread.run {
            Self.waitForBackoff(of: slot, upTo: timeout)
            return try slot.with { connection in
                if consuming.generation != slot.generation {
                    try connection.consume(queue: queue, prefetch: prefetch)
                    consuming.generation = slot.generation
                }
                var delivery = try connection.nextDelivery(timeout: timeout)
                delivery?.connectionGeneration = slot.generation
                return delivery
            }
        }
    }

    /// Up to `limit` deliveries: waits up to `timeout` for the first, then takes what has already arrived.
    public func nextBatch(limit: Int, timeout: TimeInterval = 1) async throws -> [Delivery] {
        let (slot, queue, prefetch, consuming) = (self.slot, self.queue, self.prefetch, self.consuming)
        return try await thread.run {
            Self.waitForBackoff(of: slot, upTo: timeout)
            return try slot.with { connection in
                if consuming.generation != slot.generation {
                    try connection.consume(queue: queue, prefetch: prefetch)
                    consuming.generation = slot.generation
                }
                var batch: [Delivery] = []
                while batch.count < limit, var delivery = try connection.nextDelivery(timeout: batch.isEmpty ? timeout : 0.0005) {
                    delivery.connectionGeneration = slot.generation
                    batch.append(delivery)
                }
                return batch
            }
        }
    }

    /// Sleeps (on the owner thread, whose only client is this consumer) through the reconnect back-off, at
    /// most `timeout`, so a caller polling `next` in a loop does not spin on instant failures.
    private static func waitForBackoff(of slot: ConnectionSlot, upTo timeout: TimeInterval) {
        let wait = min(slot.backoffRemaining, .milliseconds(Int(timeout * 1000)))
        if wait > .zero { Thread.sleep(forTimeInterval: Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18) }
    }

    public func ack(_ delivery: Delivery) async throws {
        let slot = self.slot
        try await thread.run {
            // A tag means something only on the connection that delivered it; when that one is gone the broker
            // redelivers the message, and reconnecting here would send the old tag on a new channel.
            guard slot.connection != nil, delivery.connectionGeneration == slot.generation else { return }
            try slot.with { try $0.ack(delivery.deliveryTag) }
        }
    }

    /// `requeue: false` dead-letters the message (when the queue has a dead-letter exchange).
    public func reject(_ delivery: Delivery, requeue: Bool) async throws {
        let slot = self.slot
        try await thread.run {
            guard slot.connection != nil, delivery.connectionGeneration == slot.generation else { return }
            try slot.with { try $0.reject(delivery.deliveryTag, requeue: requeue) }
        }
    }

    /// For readiness probes: passes while the consumer holds a connection (connecting when it has none and
    /// the back-off allows). It reads nothing, which would take deliveries from the consuming loop; a dead
    /// connection is found by that loop within two heartbeat intervals and dropped.
    public func checkConnection() async throws {
        let slot = self.slot
        try await thread.run { _ = try slot.with { _ in } }
    }

    public func close() async {
        let slot = self.slot
        _ = try? await thread.run { slot.close() }
        thread.shutdown()
    }
}

/// Which connection generation `basic.consume` was issued on; touched only on the owner thread.
final class ConsumingFlag: @unchecked Sendable {
    var generation = -1
}
