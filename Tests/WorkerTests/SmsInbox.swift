import Database
import Foundation
import Generated
import Messaging
import Outbox
import SmsIngest
import Testing

/// The SMS path after the modem, for tests that need SMS and panels together: `send` publishes an `SmsReceived`
/// as the SMS agent does, and `run` consumes `sms.inbox` with the SMS consumer (`SmsIngest`) in this process.
struct SmsInbox: Sendable {
    let consumer: IdempotentConsumer
    let publisher: Publisher

    /// - Parameter database: where the consumer stores messages (default: the fixture's database, directly).
    init(_ fixture: WorkerFixture, database: DatabaseConfiguration? = nil, transactionTimeout: Duration = .seconds(15)) {
        let logger = fixture.logger
        consumer = IdempotentConsumer(
            name: SmsIngest.consumerName,
            consumer: QueueConsumer(configuration: fixture.stack.amqpConfiguration, topology: StamTopology.messaging, queue: "sms.inbox", logger: logger),
            database: (database ?? fixture.database).connectionConfiguration, transactionTimeout: transactionTimeout, logger: logger,
            handler: SmsIngest.handler(repositories: fixture.repositories, outbox: nil, logger: logger))
        publisher = Publisher(configuration: fixture.stack.amqpConfiguration, topology: StamTopology.messaging, logger: logger)
    }

    /// Runs `body` while the consumer runs.
    func consuming<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await consumer.run() }
            defer { group.cancelAll() }
            return try await body()
        }
    }

    /// Publishes one complete SMS and returns its id.
    func send(from sender: String, _ text: String) async throws -> UUID {
        let id = UUID()
        let payload = SmsReceived(smsId: id, sender: sender, senderKind: "international", body: text, sentAt: Date(), receivedAt: Date(),
                                  complete: true, partsExpected: 1, partsReceived: 1)
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        let refused = try await publisher.publish([OutgoingMessage(
            exchange: SmsReceived.exchange, routingKey: SmsReceived.routingKey, messageId: id.uuidString.lowercased(),
            type: SmsReceived.eventName, timestamp: Date(), body: Array(try encoder.encode(payload)))])
        #expect(refused.isEmpty)
        return id
    }

    func close() async { await publisher.close() }
}
