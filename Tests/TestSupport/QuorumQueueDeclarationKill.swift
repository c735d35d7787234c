import Foundation
import DevStack
import Logging
import Messaging
import StamCore
import Synchronization

/// A quorum queue declared and filled with confirmed messages for 300 ms, then its broker killed with SIGKILL and
/// started again: within the second in which RabbitMQ 3.10 has not yet saved the queue's registration (see
/// `RabbitMQServer.syncQuorumQueueRegistry`). With `syncingTheRegistry`, the node runs that sync as soon as the
/// queue is registered: an eval started (and connected) before the declaration waits inside the node for the
/// registration, because a `rabbitmqctl` started afterwards would take longer than the whole window.
public struct QuorumQueueDeclarationKill: Sendable {
    public struct Outcome: Sendable {
        /// Messages the broker confirmed before the kill.
        public let confirmed: Set<String>
        /// Messages the restarted broker delivered.
        public let delivered: Set<String>
        /// Whether the registry sync had returned `ok` before the kill (always false without the sync).
        public let syncedBeforeTheKill: Bool
        public var lost: Set<String> { confirmed.subtracting(delivered) }
    }

    let rabbit: TestRabbitMQ
    let queue: String
    let logger: Logger

    public init(rabbit: TestRabbitMQ, queue: String, logger: Logger) {
        self.rabbit = rabbit
        self.queue = queue
        self.logger = logger
    }

    /// - Parameter limit: how long the restarted broker is given to deliver every confirmed message (see `consume`).
    public func run(syncingTheRegistry: Bool, waitingAtMost limit: Duration = .seconds(60)) async throws -> Outcome {
        let topology = MessagingTopology(
            exchanges: [.init(name: "\(queue).events", type: "topic")],
            queues: [.init(name: queue, quorum: true, bindings: [.init(exchange: "\(queue).events", routingKey: "#")])])
        let synced = Mutex(false)
        let sync = syncingTheRegistry ? try await startRegistrySync { synced.withLock { $0 = true } } : nil
        let publisher = Publisher(configuration: rabbit.configuration, topology: topology, logger: logger)
        try await publisher.connect()
        let declared = ContinuousClock.now
        var confirmed = Set<String>()
        var number = 0
        while ContinuousClock.now - declared < .milliseconds(300) {
            let batch = (number..<number + 20).map {
                OutgoingMessage(exchange: "\(queue).events", routingKey: "k", messageId: "m-\($0)", type: "T", timestamp: Date(),
                                headers: [:], body: Array("\($0)".utf8))
            }
            number += 20
            if try await publisher.publish(batch).isEmpty { confirmed.formUnion(batch.compactMap(\.messageId)) }
        }
        let syncedBeforeTheKill = synced.withLock { $0 }
        rabbit.server.stopBroker(signal: SIGKILL)
        await publisher.close()
        _ = await sync?.result
        try await rabbit.server.startBroker()
        return Outcome(confirmed: confirmed, delivered: await consume(topology, expecting: confirmed, within: limit),
                       syncedBeforeTheKill: syncedBeforeTheKill)
    }

    /// Starts an eval that waits (up to 30 s) inside the node for the queue's registration and then syncs the
    /// registry; returns once the eval is connected and waiting (it touches a file first). `done` runs when the sync
    /// returned `ok`.
    func startRegistrySync(done: @escaping @Sendable () -> Void) async throws -> Task<Void, any Error> {
        let marker = "\(rabbit.server.directory)/registry-sync-waiting-\(UUID().uuidString.prefix(8))"
        let member = "'\(rabbit.server.virtualHost)_\(queue)'"
        let expression = """
            ok = file:write_file("\(marker)", <<>>), \
            Wait = fun Wait(0) -> timeout; \
                       Wait(N) -> case dets:lookup(ra_directory_reverse, \(member)) of \
                                      [] -> timer:sleep(2), Wait(N - 1); \
                                      _ -> \(RabbitMQServer.registrySync) \
                                  end \
                   end, \
            Wait(15000).
            """
        let server = rabbit.server
        let task = Task.detached {
            let output = try server.ctl(["eval", expression])
            if output.trimmingCharacters(in: .whitespacesAndNewlines) == "ok" { done() }
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while !FileManager.default.fileExists(atPath: marker) {
            guard ContinuousClock.now < deadline else { throw AMQPError(code: .timeout, message: "the registry sync eval never started") }
            try await Task.sleep(for: .milliseconds(20))
        }
        return task
    }

    /// Consumes until every expected message came or `limit` (from the broker's restart) passed. A queue whose member
    /// the broker forgot never answers `basic.consume`: every attempt times out and the limit ends the wait.
    func consume(_ topology: MessagingTopology, expecting expected: Set<String>, within limit: Duration) async -> Set<String> {
        let consumer = QueueConsumer(configuration: rabbit.configuration, topology: topology, queue: queue, prefetch: 200, logger: logger)
        var delivered = Set<String>()
        let restarted = ContinuousClock.now
        let deadline = restarted + limit
        while ContinuousClock.now < deadline && !expected.isSubset(of: delivered) {
            do {
                for delivery in try await consumer.nextBatch(limit: 200, timeout: 1) {
                    delivered.insert(delivery.messageId ?? "")
                    try await consumer.ack(delivery)
                }
            } catch {
                try? await Task.sleep(for: .seconds(1))
            }
        }
        await consumer.close()
        print("quorum queue \(queue): \(delivered.count) of \(expected.count) confirmed messages delivered, "
              + "\(ContinuousClock.now - restarted) after the broker's restart (limit \(limit))")
        return delivered
    }
}
