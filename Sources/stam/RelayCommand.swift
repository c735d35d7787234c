import ArgumentParser
import Database
import Foundation
import Generated
import Logging
import Messaging
import Observability
import Outbox
import PostgresNIO
import Prometheus
import ServiceLifecycle

struct RelayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relay",
        abstract: "Publish outbox rows to RabbitMQ with confirms (run two: they share the work safely).")

    @Option(help: "Name of this relay in outbox_relays (default: the host name and PID).")
    var instance: String?

    @OptionGroup var databaseOptions: DatabaseOptions

    @Option(name: .customLong("listen-url"), help: ArgumentHelp(
        "A PostgreSQL node to LISTEN on for new outbox rows, when --database-url is a PgBouncer (repeat for each node; default: the comma-separated $DATABASE_LISTEN_URLS, else the database itself)."))
    var listenURLs: [String] = []

    @OptionGroup var brokerOptions: BrokerOptions

    @Option(help: "Rows per batch (one transaction, one confirm round).")
    var batchSize = 500

    @Option(help: "Longest a batch may take, claim to commit; a relay paused or cut off mid-batch frees its panels after it.")
    var batchTimeout = DurationArgument(seconds: 30)

    /// The relay's `ports.metrics` in schema/deployment.yaml (outbox-relay), which the generated
    /// deploy/generated/prometheus/prometheus.yml scrapes (`outbox-relay-N:9100`) and the compose health check
    /// asks for /readyz.
    static let defaultMetricsPort = 9100

    @Option(help: "Port of /metrics, /healthz and /readyz (0: any free port).")
    var metricsPort = RelayCommand.defaultMetricsPort

    @Option(help: "Address the metrics server listens on.")
    var metricsHost = "0.0.0.0"

    @Option(help: "Keep published outbox rows this long (audit trail, replay), e.g. 7d, 12h.")
    var outboxRetention = DurationArgument(days: 7)

    @Option(help: "Keep consumers' processed message ids this long (must exceed --outbox-retention).")
    var processedMessagesRetention = DurationArgument(days: 30)

    func validate() throws {
        // A replay from the outbox re-sends rows up to --outbox-retention old; their ids must still be in
        // processed_messages or consumers would apply them twice.
        guard processedMessagesRetention.duration > outboxRetention.duration else {
            throw ValidationError("--processed-messages-retention (\(processedMessagesRetention)) must be longer than --outbox-retention (\(outboxRetention))")
        }
    }

    func run() async throws {
        var logger = Logger(label: "stam.relay")
        logger.logLevel = .info
        let environment = ProcessInfo.processInfo.environment
        let database = try databaseOptions.configuration()
        let amqp = try brokerOptions.configuration()
        // Behind PgBouncer: LISTEN on the PostgreSQL nodes themselves (comma-separated URLs).
        let listenURLs = (listenURLs.isEmpty ? (environment["DATABASE_LISTEN_URLS"] ?? "").split(separator: ",").map(String.init) : listenURLs)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let listenDatabases = try listenURLs.map {
            try DatabaseConfiguration(url: $0, passwordFile: SecretFiles.existing("postgres_password")).connectionConfiguration
        }
        let name = instance ?? "\(ProcessInfo.processInfo.hostName)-\(getpid())"
        let publisher = Publisher(configuration: amqp, topology: StamTopology.messaging, logger: logger)
        let registry = PrometheusCollectorRegistry()
        let retention = OutboxPruner.Configuration(outboxRetention: outboxRetention.duration,
                                                   processedMessagesRetention: processedMessagesRetention.duration)
        let relay = OutboxRelay(
            configuration: .init(instance: name, batchSize: batchSize, retention: retention, batchTimeout: batchTimeout.duration),
            database: database.connectionConfiguration,
            listenDatabases: listenDatabases.isEmpty ? nil : listenDatabases,
            publisher: publisher,
            metrics: OutboxRelayMetrics(registry: registry),
            logger: logger)
        let (postgres, probeLogger) = (database.connectionConfiguration, logger)
        let observability = ObservabilityServer(
            configuration: .init(host: metricsHost, port: metricsPort), registry: registry,
            readinessChecks: [
                .postgres(connecting: postgres, logger: probeLogger),
                ReadinessCheck("rabbitmq") { try await publisher.checkConnection() },
            ],
            logger: logger)
        logger.info("relay starting", metadata: [
            "instance": "\(name)", "database": "\(database.redactedURL)", "broker": "\(amqp.redactedURL)",
            "metrics": "\(metricsHost):\(metricsPort)",
        ])
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: relay), .init(service: observability)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
