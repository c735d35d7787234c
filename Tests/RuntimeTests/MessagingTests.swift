import Foundation
import Logging
import Messaging
import StamCore
import TestSupport
import Testing

/// The rabbitmq-c messaging runtime against a real RabbitMQ 3 node.
@Suite(.rabbitmq, .serialized, .integration, .tags(.integration)) struct MessagingTests {
    let logger = Logger(label: "test.messaging")

    func topology(_ prefix: String) -> MessagingTopology {
        MessagingTopology(
            exchanges: [.init(name: "\(prefix).events", type: "topic"), .init(name: "\(prefix).dead", type: "topic")],
            queues: [
                .init(name: "\(prefix).work", quorum: true, deadLetterExchange: "\(prefix).dead", deliveryLimit: 3,
                      bindings: [.init(exchange: "\(prefix).events", routingKey: "panel.#")]),
                .init(name: "\(prefix).dead_letters", quorum: true, bindings: [.init(exchange: "\(prefix).dead", routingKey: "#")]),
            ])
    }

    func message(_ prefix: String, _ number: Int) -> OutgoingMessage {
        OutgoingMessage(exchange: "\(prefix).events", routingKey: "panel.zone.changed", messageId: "m-\(number)",
                        type: "ZoneStateChanged", timestamp: Date(), headers: ["aggregate_id": "p1"],
                        body: Array("{\"n\":\(number)}".utf8))
    }

    func drain(_ consumer: QueueConsumer, expecting count: Int) async throws -> [Delivery] {
        var received: [Delivery] = []
        var idle = 0
        while received.count < count && idle < 10 {
            if let delivery = try await consumer.next(timeout: 1) {
                received.append(delivery)
                try await consumer.ack(delivery)
                idle = 0
            } else {
                idle += 1
            }
        }
        return received
    }

    @Test func confirmedPublishesAreConsumedInOrderWithTheirProperties() async throws {
        let rabbit = try #require(TestRabbitMQ.current)
        let topology = topology("t1")
        let publisher = Publisher(configuration: rabbit.configuration, topology: topology, logger: logger)
        for batch in stride(from: 0, to: 1000, by: 100) {
            let nacked = try await publisher.publish((batch..<batch + 100).map { message("t1", $0) })
            #expect(nacked.isEmpty)
        }
        let consumer = QueueConsumer(configuration: rabbit.configuration, topology: topology, queue: "t1.work", prefetch: 50, logger: logger)
        let received = try await drain(consumer, expecting: 1000)
        #expect(received.map(\.messageId) == (0..<1000).map { "m-\($0)" })
        #expect(received.first?.type == "ZoneStateChanged")
        #expect(received.first?.headers["aggregate_id"] == "p1")
        #expect(received.first.map { String(decoding: $0.body, as: UTF8.self) } == "{\"n\":0}")
        #expect(try await consumer.next(timeout: 0.5) == nil)
        await publisher.close()
        await consumer.close()
    }

    @Test func aRejectedMessageGoesToTheDeadLetterQueueAndOthersContinue() async throws {
        let rabbit = try #require(TestRabbitMQ.current)
        let topology = topology("t2")
        let publisher = Publisher(configuration: rabbit.configuration, topology: topology, logger: logger)
        _ = try await publisher.publish((0..<3).map { message("t2", $0) })
        let consumer = QueueConsumer(configuration: rabbit.configuration, topology: topology, queue: "t2.work", prefetch: 1, logger: logger)
        var handled: [String] = []
        var attemptsOfPoison = 0
        var idle = 0
        while handled.count < 2 && idle < 10 {
            guard let delivery = try await consumer.next(timeout: 1) else { idle += 1; continue }
            if delivery.messageId == "m-1" {
                // The poison message: fails every time, requeued until the quorum queue's delivery limit.
                attemptsOfPoison += 1
                try await consumer.reject(delivery, requeue: true)
            } else {
                handled.append(delivery.messageId ?? "")
                try await consumer.ack(delivery)
            }
        }
        #expect(handled == ["m-0", "m-2"])
        let dead = QueueConsumer(configuration: rabbit.configuration, topology: topology, queue: "t2.dead_letters", logger: logger)
        let deadLetters = try await drain(dead, expecting: 1)
        #expect(deadLetters.map(\.messageId) == ["m-1"])
        #expect(attemptsOfPoison >= 3)
        await publisher.close(); await consumer.close(); await dead.close()
    }

    @Test func thePublisherReconnectsAfterTheBrokerRestarts() async throws {
        let rabbit = try #require(TestRabbitMQ.current)
        let topology = topology("t3")
        let publisher = Publisher(configuration: rabbit.configuration, topology: topology, logger: logger)
        _ = try await publisher.publish([message("t3", 0)])
        rabbit.server.stopBroker(signal: SIGKILL)
        await #expect(throws: AMQPError.self) { try await publisher.publish([message("t3", 1)]) }
        try await Task.sleep(for: .seconds(1))
        try await rabbit.server.startBroker()
        var published = false
        for _ in 0..<30 where !published {
            do {
                _ = try await publisher.publish([message("t3", 2)])
                published = true
            } catch {
                try await Task.sleep(for: .milliseconds(500))
            }
        }
        #expect(published)
        // The quorum queue kept the confirmed message across the crash.
        let consumer = QueueConsumer(configuration: rabbit.configuration, topology: topology, queue: "t3.work", logger: logger)
        let received = try await drain(consumer, expecting: 2).compactMap(\.messageId)
        #expect(received.contains("m-0") && received.contains("m-2"))
        await publisher.close(); await consumer.close()
    }

    @Test func wrongCredentialsFailWithALoginError() async throws {
        let rabbit = try #require(TestRabbitMQ.current)
        var configuration = rabbit.configuration
        configuration.password = "wrong"
        let publisher = Publisher(configuration: configuration, topology: topology("t4"), logger: logger)
        await #expect { try await publisher.connect() } throws: { ($0 as? AMQPError)?.code == .login }
        await publisher.close()
    }
}
