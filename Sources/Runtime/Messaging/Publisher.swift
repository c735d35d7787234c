import Foundation
import Logging
import StamCore

/// Publishes persistent messages with publisher confirms. A batch is pipelined (all published, then the
/// confirms read), which is what makes confirms fast. Safe to call from any task; the blocking work runs on
/// the publisher's own thread. A lost connection fails the call and is re-established by the next one.
public final class Publisher: Sendable {
    private let thread: OwnerThread
    private let slot: ConnectionSlot

    public init(configuration: AMQPConfiguration, topology: MessagingTopology, logger: Logger) {
        let slot = ConnectionSlot(configuration: configuration, topology: topology, instance: nil, confirms: true, logger: logger)
        self.slot = slot
        thread = OwnerThread(name: "amqp-publisher", idleInterval: Double(max(1, configuration.heartbeatSeconds)) / 3) { slot.pump() }
    }

    /// Publishes the batch and waits for the broker to confirm all of it. Returns the indices of messages
    /// the broker refused (nack); throws when the connection failed, in which case any of them may or may
    /// not have been delivered (callers publish again; consumers deduplicate by message id).
    public func publish(_ messages: [OutgoingMessage], confirmTimeout: TimeInterval = 30) async throws -> Set<Int> {
        guard !messages.isEmpty else { return [] }
        let slot = self.slot
        return try await thread.run {
            try slot.with { connection in
                var firstTag: UInt64 = 0
                var lastTag: UInt64 = 0
                for message in messages {
                    lastTag = try connection.publish(message)
                    if firstTag == 0 { firstTag = lastTag }
                }
                let nacked = try connection.waitForConfirms(from: firstTag, through: lastTag, timeout: confirmTimeout)
                return Set(nacked.map { Int($0 - firstTag) })
            }
        }
    }

    /// Connects now (declaring the topology) instead of on the first publish.
    public func connect() async throws {
        let slot = self.slot
        try await thread.run { _ = try slot.with { $0 } }
    }

    /// For readiness probes: connects when there is no connection, else reads what the broker sent (which
    /// fails on a dead socket and drops it, so the next probe or publish reconnects).
    public func checkConnection() async throws {
        let slot = self.slot
        try await thread.run { try slot.with { try $0.pump() } }
    }

    public func close() async {
        let slot = self.slot
        _ = try? await thread.run { slot.close() }
        thread.shutdown()
    }
}
