import ArgumentParser
import Database
import Foundation
import Generated
import Logging
import Messaging
import Outbox
import ServiceLifecycle
import SmsIngest

/// `stam sms-consumer`: stores received SMS and raises alarms from them (queue `sms.inbox`), exactly once.
struct SmsConsumerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sms-consumer",
        abstract: "Consume sms.inbox into sms_messages (idempotent) and raise alarms for matching texts.")

    @Option(help: "postgresql://user@host:port/database (default: $DATABASE_URL).") var databaseURL: String?
    @Option(help: "amqp://user@host:port/vhost (default: $RABBITMQ_URL).") var amqpURL: String?

    func run() async throws {
        var logger = Logger(label: "stam.sms-consumer")
        logger.logLevel = .info
        let environment = ProcessInfo.processInfo.environment
        guard let databaseURL = databaseURL ?? environment["DATABASE_URL"] else {
            throw ValidationError("no database: pass --database-url or set DATABASE_URL")
        }
        guard let amqpURL = amqpURL ?? environment["RABBITMQ_URL"] else {
            throw ValidationError("no broker: pass --amqp-url or set RABBITMQ_URL")
        }
        let database = try DatabaseConfiguration(url: databaseURL, passwordFile: SecretFiles.existing("postgres_password"))
        let amqp = try AMQPConfiguration(url: amqpURL, password: try DatabaseConfiguration.readSecret(SecretFiles.path("rabbitmq_password")))
        let queue = QueueConsumer(configuration: amqp, topology: StamTopology.messaging, queue: "sms.inbox", logger: logger)
        let consumer = IdempotentConsumer(name: SmsIngest.consumerName, consumer: queue,
                                          database: database.connectionConfiguration, logger: logger,
                                          handler: SmsIngest.handler(logger: logger))
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: consumer)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        await queue.close()
    }
}
