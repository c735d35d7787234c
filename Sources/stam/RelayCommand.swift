import ArgumentParser
import Database
import Foundation
import Generated
import Logging
import Messaging
import Outbox
import ServiceLifecycle

struct RelayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relay",
        abstract: "Publish outbox rows to RabbitMQ with confirms (run two: they share the work safely).")

    @Option(help: "Name of this relay in outbox_relays (default: the host name and PID).")
    var instance: String?

    @Option(help: "postgresql://user@host:port/database (default: $DATABASE_URL).")
    var databaseURL: String?

    @Option(help: "amqp://user@host:port/vhost (default: $RABBITMQ_URL).")
    var amqpURL: String?

    @Option(help: "Rows per batch (one transaction, one confirm round).")
    var batchSize = 500

    func run() async throws {
        var logger = Logger(label: "stam.relay")
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
        let name = instance ?? "\(ProcessInfo.processInfo.hostName)-\(getpid())"
        let relay = OutboxRelay(
            configuration: .init(instance: name, batchSize: batchSize),
            database: database.connectionConfiguration,
            publisher: Publisher(configuration: amqp, topology: StamTopology.messaging, logger: logger),
            logger: logger)
        logger.info("relay starting", metadata: ["instance": "\(name)", "database": "\(database.redactedURL)", "broker": "\(amqp.redactedURL)"])
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: relay)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
