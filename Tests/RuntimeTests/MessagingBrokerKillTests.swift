import Foundation
import Logging
import Messaging
import StamCore
import Synchronization
import TestSupport
import Testing

/// A consumer (and a publisher) while the broker fails in the three ways that matter: killed with SIGKILL
/// and started again on the same port, stopped with SIGSTOP (the socket stays open and nothing answers,
/// the way a peer behind a dead link looks), and alive but not answering `basic.consume` (a quorum queue
/// without a leader). In each the consumer notices within a bounded time, reconnects with back-off, and
/// every message is consumed.
@Suite(.rabbitmq, .serialized, .integration, .tags(.integration)) struct MessagingBrokerKillTests {
    let logger: Logger = {
        var logger = Logger(label: "test.messaging.kill")
        logger.logLevel = ProcessInfo.processInfo.environment["STAM_TEST_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        return logger
    }()

    func topology(_ prefix: String) -> MessagingTopology {
        MessagingTopology(
            exchanges: [.init(name: "\(prefix).events", type: "topic")],
            queues: [.init(name: "\(prefix).work", quorum: true, bindings: [.init(exchange: "\(prefix).events", routingKey: "#")])])
    }

    func message(_ prefix: String, _ number: Int) -> OutgoingMessage {
        OutgoingMessage(exchange: "\(prefix).events", routingKey: "k", messageId: "m-\(number)", type: "T", timestamp: Date(),
                        headers: [:], body: Array("\(number)".utf8))
    }

    func ids(_ range: Range<Int>) -> Set<String> { Set(range.map { "m-\($0)" }) }

    /// What the consuming side saw: every delivery's id (duplicates included) and every error.
    final class Received: Sendable {
        private let state = Mutex<(ids: [String], errors: [AMQPError])>(([], []))
        func add(_ id: String) { state.withLock { $0.ids.append(id) } }
        func failed(_ error: AMQPError) { state.withLock { $0.errors.append(error) } }
        var ids: [String] { state.withLock { $0.ids } }
        var errors: [AMQPError] { state.withLock { $0.errors } }
    }

    /// Consumes and acknowledges until cancelled, retrying after errors the way `IdempotentConsumer` does.
    func consume(_ consumer: QueueConsumer, into received: Received) async {
        while !Task.isCancelled {
            do {
                for delivery in try await consumer.nextBatch(limit: 50, timeout: 1) {
                    received.add(delivery.messageId ?? "")
                    try await consumer.ack(delivery)
                }
            } catch {
                received.failed(error as? AMQPError ?? AMQPError(code: .protocolError, message: "\(error)"))
            }
        }
    }

    /// Publishes `range` in batches of 20, each until confirmed (a batch whose confirm was lost is published
    /// again: a duplicate the consuming side collapses by message id).
    func publish(_ publisher: Publisher, _ prefix: String, _ range: Range<Int>) async {
        for start in stride(from: range.lowerBound, to: range.upperBound, by: 20) {
            let batch = (start..<min(start + 20, range.upperBound)).map { message(prefix, $0) }
            while !Task.isCancelled {
                if let nacked = try? await publisher.publish(batch), nacked.isEmpty { break }
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// Waits until `condition` holds or `limit` passes (the assertions after it say what was expected; the
    /// limit only keeps a regression from hanging the suite).
    func waitUntil(within limit: Duration = .seconds(180), _ condition: () -> Bool) async {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline && !condition() {
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// SIGKILL while messages flow, then the broker comes back on the same port: every message confirmed
    /// before the kill and every one published after the restart is consumed (the unacknowledged ones of the
    /// dead connection redelivered), none is missing, and a duplicate is only ever a redelivery.
    @Test func aConsumerResumesAfterTheBrokerIsKilledAndRestarted() async throws {
        let rabbit = try #require(TestRabbitMQ.current)
        let topology = topology("k1")
        let publisher = Publisher(configuration: rabbit.configuration, topology: topology, logger: logger)
        let consumer = QueueConsumer(configuration: rabbit.configuration, topology: topology, queue: "k1.work", prefetch: 50, logger: logger)
        try await publisher.connect()
        try rabbit.server.syncQuorumQueueRegistry()
        let received = Received()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await consume(consumer, into: received) }
            await publish(publisher, "k1", 0..<2000)
            group.addTask { await publish(publisher, "k1", 2000..<4000) }
            await waitUntil { received.ids.count >= 2500 }
            rabbit.server.stopBroker(signal: SIGKILL)
            try await rabbit.server.startBroker()
            await publish(publisher, "k1", 4000..<5000)
            await waitUntil { Set(received.ids).count >= 5000 }
            group.cancelAll()
        }
        #expect(Set(received.ids) == ids(0..<5000))
        #expect(!received.errors.isEmpty)
        await publisher.close()
        await consumer.close()
    }

    /// SIGSTOP: no FIN, no RST, the kernel still acknowledges; only the missing heartbeats tell. The
    /// consumer's call fails with the heartbeat timeout instead of returning "no message" forever, and after
    /// SIGCONT everything published is consumed.
    @Test func aSilentBrokerIsDetectedByHeartbeats() async throws {
        let rabbit = try #require(TestRabbitMQ.current)
        let broker = try #require(rabbit.server.process)
        let topology = topology("k2")
        let publisher = Publisher(configuration: rabbit.configuration, topology: topology, logger: logger)
        let consumer = QueueConsumer(configuration: rabbit.configuration, topology: topology, queue: "k2.work", logger: logger)
        await publish(publisher, "k2", 0..<100)
        let received = Received()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await consume(consumer, into: received) }
            await waitUntil { received.ids.count >= 100 }
            kill(broker.pid, SIGSTOP)
            await waitUntil { !received.errors.isEmpty }
            kill(broker.pid, SIGCONT)
            await publish(publisher, "k2", 100..<200)
            await waitUntil { Set(received.ids).count >= 200 }
            group.cancelAll()
        }
        #expect(received.errors.first?.code == .heartbeatTimeout)
        #expect(Set(received.ids) == ids(0..<200))
        await publisher.close()
        await consumer.close()
    }

    /// The broker is alive (heartbeats flow) but the queue's Raft member does not answer, as after the crash
    /// that loses a quorum queue's registration: `basic.consume` gets no reply. The consumer gives up after
    /// `callTimeoutSeconds` (RabbitMQ itself would hold it about a minute and then close the connection, and
    /// do so again on every reconnect), keeps retrying with back-off, and consumes everything once the
    /// member answers again.
    @Test func aConsumeTheBrokerDoesNotAnswerTimesOutAndIsRetried() async throws {
        let rabbit = try #require(TestRabbitMQ.current)
        let topology = topology("k3")
        let publisher = Publisher(configuration: rabbit.configuration, topology: topology, logger: logger)
        await publish(publisher, "k3", 0..<100)
        let member = "'\(rabbit.server.virtualHost)_k3.work'"
        try rabbit.server.ctl(["eval", "sys:suspend(\(member))."])
        let consumer = QueueConsumer(configuration: rabbit.configuration, topology: topology, queue: "k3.work", logger: logger)
        let received = Received()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await consume(consumer, into: received) }
            await waitUntil { !received.errors.isEmpty }
            try rabbit.server.ctl(["eval", "sys:resume(\(member))."])
            await waitUntil { Set(received.ids).count >= 100 }
            group.cancelAll()
        }
        #expect(received.errors.first?.code == .timeout)
        #expect(Set(received.ids) == ids(0..<100))
        await publisher.close()
        await consumer.close()
    }

    /// RabbitMQ 3.10 as it is: a quorum queue whose broker is killed 300 ms after the queue was declared (before
    /// Ra saved its registration) comes back as a new, empty member without a leader; every confirmed message is
    /// gone. This is why the registry is synced (next test). It fails once the RabbitMQ of Debian and the image has
    /// Ra's fix (rabbitmq/ra#443); then the syncs can go.
    ///
    /// The restarted broker gets 20 s to deliver (two `basic.consume` attempts of `callTimeoutSeconds`, 10 s here),
    /// not the 60 s of the next test: the lost member is a new, empty one, so no wait brings the messages back, and a
    /// queue that kept them delivers all of them within about a second of the restart (the next test prints how long:
    /// 0.75 s on the 2-core machine, 1840 messages). With 60 s, the waiting was 60 of this test's 72 s in CI; now ~27 s.
    @Test func aQuorumQueueKilledBeforeItsRegistrationIsSavedLosesEveryConfirmedMessage() async throws {
        let rabbit = try #require(TestRabbitMQ.current)
        let outcome = try await QuorumQueueDeclarationKill(rabbit: rabbit, queue: "k4.work", logger: logger)
            .run(syncingTheRegistry: false, waitingAtMost: .seconds(20))
        #expect(outcome.confirmed.count >= 100)
        #expect(outcome.delivered.isEmpty, "\(outcome.delivered.count) of \(outcome.confirmed.count) delivered")
    }

    /// The same kill once the registry was synced after the declaration (`RabbitMQServer.registrySync`, what the
    /// local stack and the production health check run): every confirmed message is delivered, those confirmed
    /// after the sync too.
    @Test func aQuorumQueueWhoseRegistryWasSyncedKeepsEveryConfirmedMessageThroughTheKill() async throws {
        let rabbit = try #require(TestRabbitMQ.current)
        let outcome = try await QuorumQueueDeclarationKill(rabbit: rabbit, queue: "k5.work", logger: logger)
            .run(syncingTheRegistry: true, waitingAtMost: .seconds(60))
        #expect(outcome.syncedBeforeTheKill)
        #expect(outcome.confirmed.count >= 100)
        #expect(outcome.lost.isEmpty, "\(outcome.lost.count) of \(outcome.confirmed.count) lost")
    }
}
