import ArgumentParser
import Database
import Foundation
import Generated
import Logging
import Messaging
import Observability
import Outbox
import Persistence
import PostgresNIO
import Prometheus
import ServiceLifecycle
import SmsIngest

/// `stam sms-consumer`: stores received SMS and raises alarms from them (queue `sms.inbox`), exactly once.
struct SmsConsumerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sms-consumer",
        abstract: "Consume sms.inbox into sms_messages (idempotent) and raise alarms for matching texts.")

    @OptionGroup var databaseOptions: DatabaseOptions
    @OptionGroup var brokerOptions: BrokerOptions

    /// Next to the sms-agent's 9102. schema/deployment.yaml has no sms-consumer service yet, so no generated
    /// scrape target or health check asks for it.
    static let defaultMetricsPort = 9103

    @Option(help: "Port of /metrics, /healthz and /readyz (0: any free port).")
    var metricsPort = SmsConsumerCommand.defaultMetricsPort
    @Option(help: "Address the metrics server listens on.") var metricsHost = "0.0.0.0"

    func run() async throws {
        var logger = Logger(label: "stam.sms-consumer")
        logger.logLevel = .info
        let database = try databaseOptions.configuration()
        let amqp = try brokerOptions.configuration()
        let registry = PrometheusCollectorRegistry()
        // The consumer has connections of its own; this pool only carries the NOTIFY after an alarm commits.
        let notifyClient = database.makeClient(backgroundLogger: logger)
        let outbox = OutboxNotifier(client: notifyClient, logger: logger)
        // Written through on the consumer's transaction connection only; the SMS tables hold no secret column.
        let repositories = Repositories(context: DatabaseContext(client: notifyClient, secrets: nil, logger: logger))
        let (consumer, queue) = SmsIngest.consumer(broker: amqp, database: database, repositories: repositories, outbox: outbox,
                                                   registry: registry, logger: logger)
        let (postgres, probeLogger) = (database.connectionConfiguration, logger)
        let observability = ObservabilityServer(
            configuration: .init(host: metricsHost, port: metricsPort), registry: registry,
            readinessChecks: [
                .postgres(connecting: postgres, logger: probeLogger),
                ReadinessCheck("rabbitmq") { try await queue.checkConnection() },
            ],
            logger: logger)
        logger.info("sms consumer starting", metadata: [
            "database": "\(database.redactedURL)", "broker": "\(amqp.redactedURL)", "metrics": "\(metricsHost):\(metricsPort)",
        ])
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: notifyClient), .init(service: outbox), .init(service: consumer), .init(service: observability)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        await queue.close()
    }
}
