import ArgumentParser
import DC09
import DC09Ingest
import Database
import Foundation
import Generated
import Logging
import Observability
import Outbox
import Persistence
import Prometheus
import ServiceLifecycle

/// `stam receiver`: a SIA DC-09 receiver. Communicators of any brand report to it over TCP or UDP; every frame is
/// answered only after what it carried committed (docs/DC09.md). Run two, one per address communicators are given
/// (primary and secondary path): they share the database, and a repeat sent to the other is stored once.
struct ReceiverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receiver",
        abstract: "Receive SIA DC-09 (SIA-DCS, Contact ID, link tests) over TCP and UDP; ACK each frame after it is stored.")

    /// The dc09-receiver's `ports.dc09` in schema/deployment.yaml, which compose publishes (TCP and UDP).
    static let defaultPort = 7200
    /// Its `ports.metrics`, which the generated prometheus.yml scrapes and the compose health check asks for /readyz.
    static let defaultMetricsPort = 9104

    @Option(help: "Name of this receiver in the messages it stores (default: $STAM_INSTANCE, else the host name and PID).")
    var instance: String?

    @Option(help: "Address the receiver listens on (TCP and UDP).") var host = "0.0.0.0"
    @Option(help: "Port of the receiver, TCP and UDP (0: any free port).") var port = ReceiverCommand.defaultPort
    @Option(help: "Close a TCP connection that sends nothing for this long.") var idleTimeout = DurationArgument(seconds: 120)
    @Option(help: "How often the accounts are read again (an account added is taken within it).")
    var accountsRefresh = DurationArgument(seconds: 10)
    @Option(help: "A repeat of a stored message within this window is ACKed again and not stored twice.")
    var duplicateWindow = DurationArgument(seconds: 600)

    @OptionGroup var databaseOptions: DatabaseOptions

    @Option(help: "Port of /metrics, /healthz and /readyz (0: any free port).")
    var metricsPort = ReceiverCommand.defaultMetricsPort
    @Option(help: "Address the metrics server listens on.") var metricsHost = "0.0.0.0"

    func run() async throws {
        var logger = Logger(label: "stam.receiver")
        logger.logLevel = ProcessInfo.processInfo.environment["STAM_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        let environment = ProcessInfo.processInfo.environment
        let name = instance ?? environment["STAM_INSTANCE"] ?? "\(ProcessInfo.processInfo.hostName)-\(getpid())"
        let database = try databaseOptions.configuration()
        // The accounts' keys are secret columns: without the key they cannot be read, and encrypted accounts are refused.
        let secrets = try SecretFiles.existing("encryption_key").map { try SecretBox(keyFile: $0) }
        let client = database.makeClient(backgroundLogger: logger)
        let repositories = Repositories(context: DatabaseContext(client: client, secrets: secrets, logger: logger))
        let outbox = OutboxNotifier(client: client, logger: logger)
        let registry = PrometheusCollectorRegistry()
        let metrics = DC09ReceiverMetrics(registry: registry)
        let accounts = DC09AccountCache(repositories: repositories, refreshInterval: accountsRefresh.duration, logger: logger,
                                        onRefresh: { metrics.set(accounts: $0) })
        var store = DC09PostgresStore(client: client, repositories: repositories, accounts: accounts, notifier: outbox, instance: name, logger: logger)
        store.duplicateWindow = duplicateWindow.duration
        var handler = DC09FrameHandler(accounts: accounts, store: store, logger: logger)
        if let marker = environment["STAM_RECEIVER_TEST_PAUSE_BEFORE_ACK"] {
            // The crash test's hook: announce that a message is committed and its ACK not sent, then wait to be
            // killed. Never set in a deployment.
            logger.warning("test hook active: every ACK waits after the commit", metadata: ["marker": .string(marker)])
            handler.beforeAcknowledging = {
                FileManager.default.createFile(atPath: marker, contents: Data("committed\n".utf8))
                while true { try? await Task.sleep(for: .seconds(3600)) }
            }
        }
        // Every receiver supervises the paths (the other one's too: claims are SKIP LOCKED), so one receiver left
        // still reports the other's silence.
        let paths = DC09PathSupervisor(client: client, repositories: repositories, notifier: outbox, logger: logger)
        let security = DC09SecurityLog(repositories: repositories, instance: name, logger: logger)
        let receiver = DC09Receiver(configuration: .init(host: host, port: port, idleTimeout: idleTimeout.duration), handler: handler,
                                    logger: logger, observe: { observation in
                                        metrics.observe(observation)
                                        security.observe(observation)
                                    })
        // Ready = the accounts are read and PostgreSQL answers: without either, every frame gets NAK or no answer.
        let observability = ObservabilityServer(
            configuration: .init(host: metricsHost, port: metricsPort), registry: registry,
            readinessChecks: [
                ReadinessCheck("dc09_accounts") {
                    guard accounts.isLoaded else { throw DC09ReceiverError(message: "the accounts have not been read yet") }
                },
                .postgres(logger: logger) { client },
            ],
            logger: logger)
        logger.info("DC-09 receiver starting", metadata: [
            "instance": .string(name), "address": "\(host):\(port)", "database": "\(database.redactedURL)",
            "metrics": "\(metricsHost):\(metricsPort)",
        ])
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: client), .init(service: outbox), .init(service: accounts), .init(service: security), .init(service: paths),
                       .init(service: receiver), .init(service: observability)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
