import APISupport
import ArgumentParser
import Backend
import Database
import Foundation
import Generated
import Hummingbird
import Logging
import Messaging
import NIOPosix
import Observability
import Outbox
import Redis
import SmsIngest
import Persistence
import PostgresNIO
import ServiceLifecycle

/// `stam backend`: the operator API (generated routes, login, health, OpenAPI) over a PostgreSQL pool.
struct BackendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backend", abstract: "Serve the operator API (HTTP) on a port.")

    @Option(help: "Address to listen on.")
    var host = "0.0.0.0"

    @Option(help: "Port to listen on.")
    var port = 8000

    /// The backend's `ports.metrics` in schema/deployment.yaml, which the generated prometheus.yml scrapes.
    static let defaultMetricsPort = 9100

    @Option(help: "Port of /metrics, /healthz and /readyz, apart from the API's (0: any free port).")
    var metricsPort = BackendCommand.defaultMetricsPort

    @Option(help: "Address the metrics server listens on.")
    var metricsHost = "0.0.0.0"

    @OptionGroup var databaseOptions: DatabaseOptions

    @Option(help: "postgresql://user@host:port/database of the nodes reports may run on, comma-separated; each report runs on the first in recovery (default: $DATABASE_REPLICA_URL; none: the primary, with a warning).")
    var replicaURL: String?

    /// The broker of live events and SMS.
    @OptionGroup var brokerOptions: BrokerOptions

    /// The Redis of live panel state.
    @OptionGroup var redisOptions: RedisOptions

    @Option(help: "Name of this backend; its live queue is backend.live.<instance> (default: host name and PID).")
    var instance: String?

    @Option(help: "Proxies whose X-Real-IP names the client (addresses, networks, host names; comma-separated; default: $STAM_TRUSTED_PROXIES; none: every request is its TCP peer's).")
    var trustedProxies: String?

    @Flag(inversion: .prefixedNo, help: "Keep the answers of the lists the schema marks list_cache in memory (see ListCache).")
    var listCache = true

    func run() async throws {
        // Tasks run on NIO's event loops instead of Swift's separate cooperative pool: a request's handler then
        // resumes on the loop its connection lives on, not on another thread after every await (ApiBench: about
        // +28% requests/s on 2 cores). Safe here because nothing in the backend blocks a task: bcrypt runs on
        // NIOThreadPool, AMQP and Redis on their own owner threads. Once per process, before any server starts.
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        var logger = Logger(label: "stam.backend")
        logger.logLevel = .info
        let database = try databaseOptions.configuration()
        let client = PostgresClient(configuration: database.clientConfiguration, backgroundLogger: logger)
        let secrets = try SecretBox(keyFile: SecretFiles.path("encryption_key"))
        let tokens = try await TokenService(
            publicKeyPEM: try String(contentsOfFile: SecretFiles.path("jwt_public_key"), encoding: .utf8),
            privateKeyPEM: try String(contentsOfFile: SecretFiles.path("jwt_private_key"), encoding: .utf8))
        let repositories = Repositories(context: DatabaseContext(client: client, secrets: secrets, logger: logger))
        let environment = ProcessInfo.processInfo.environment
        let amqp = try brokerOptions.configuration()
        let redis = RedisClient(configuration: try redisOptions.configuration(), logger: logger)
        let name = instance ?? "\(ProcessInfo.processInfo.hostName)-\(getpid())"
        let outbox = OutboxNotifier(client: client, logger: logger)
        let hub = LiveHub()
        let listCache: ListCache? = self.listCache ? ListCache() : nil
        let metrics = BackendMetrics(hub: hub, listCache: listCache)
        let feed = LiveEventFeed(
            consumer: QueueConsumer(configuration: amqp, topology: StamTopology.messaging, queue: "backend.live", instance: name, logger: logger),
            hub: hub, catalog: LiveEventCatalog(StamSchema.eventTypes), listCache: listCache, metrics: metrics, logger: logger)
        // The backend side of the SMS path (the deployment has no container of its own for it): every backend
        // competes on sms.inbox, and the idempotent consumer makes a redelivery or a second backend harmless.
        let smsQueue = QueueConsumer(configuration: amqp, topology: StamTopology.messaging, queue: "sms.inbox", logger: logger)
        let smsConsumer = IdempotentConsumer(name: SmsIngest.consumerName, consumer: smsQueue,
                                             database: database.connectionConfiguration, logger: logger,
                                             handler: SmsIngest.handler(repositories: repositories, outbox: outbox, logger: logger,
                                                                        metrics: SmsIngestMetrics(registry: metrics.registry)))
        let probeLogger = logger
        let readiness = [
            .postgres(logger: probeLogger) { client },
            ReadinessCheck("redis") { try await redis.ping() },
            ReadinessCheck("rabbitmq") { try feed.checkConnected() },
        ]
        // Candidates, comma-separated: reports run on whichever of them is in recovery at the time.
        let replicas = try (replicaURL ?? environment["DATABASE_REPLICA_URL"] ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            .map { try DatabaseConfiguration(url: $0, passwordFile: SecretFiles.existing("postgres_password")) }
        let reportDatabase = ReportDatabase(replicas: replicas, primary: client, logger: logger)
        let lagMonitor = ReplicationLagMonitor(reports: reportDatabase, metrics: metrics, logger: logger)
        let proxies = TrustedProxies(list: trustedProxies ?? environment["STAM_TRUSTED_PROXIES"], logger: logger)
        let backend = BackendRouter(repositories: repositories, tokens: tokens, outbox: outbox, readiness: readiness,
                                    reports: ReportsController(database: reportDatabase), metrics: metrics,
                                    listCache: listCache, proxies: proxies)
        let application = BackendApplication.make(
            router: backend.build(), live: LiveSocket(hub: hub, tokens: tokens, sessions: backend.sessions, state: RedisLiveState(client: redis)),
            host: host, port: port, logger: logger)
        let observability = backend.observability(host: metricsHost, port: metricsPort, logger: logger)
        logger.info("backend starting", metadata: [
            "instance": "\(name)", "database": "\(database.redactedURL)", "broker": "\(amqp.redactedURL)", "port": "\(port)",
            "metrics": "\(metricsHost):\(metricsPort)",
        ])
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: client), .init(service: proxies), .init(service: outbox), .init(service: feed), .init(service: smsConsumer), .init(service: application),
                       .init(service: observability)]
                + (lagMonitor.map { [.init(service: $0)] } ?? []),
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        await smsQueue.close()
    }
}
