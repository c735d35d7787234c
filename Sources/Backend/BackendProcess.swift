import APISupport
import Alarms
import Database
import Foundation
import Generated
import Logging
import Messaging
import NIOPosix
import Observability
import Outbox
import Persistence
import PostgresNIO
import Redis
import ServiceLifecycle
import SmsIngest

/// Everything `stam backend` runs, wired from a typed configuration: the command only turns its options into a
/// `Configuration`. One `ServiceGroup`: the PostgreSQL pool, trusted-proxy resolution, the outbox notifier, the
/// live feed, the SMS consumer, the alarm escalator, the panels' signal and open/close supervision, the API and `/ws`, the
/// observability server and, with replicas, the lag monitor.
public enum BackendProcess {
    public struct Configuration: Sendable {
        /// The live queue is `backend.live.<instance>`.
        public var instance: String
        public var database: DatabaseConfiguration
        /// Nodes reports may run on: each report runs on the first in recovery (none: the primary, with a warning).
        public var replicas: [DatabaseConfiguration]
        public var broker: AMQPConfiguration
        public var redis: RedisConfiguration
        public var secrets: SecretBox
        public var jwtPublicKeyPEM: String
        public var jwtPrivateKeyPEM: String
        public var host: String
        public var port: Int
        public var metricsHost: String
        public var metricsPort: Int
        /// Keep the answers of the lists the schema marks `list_cache` (see `ListCache`).
        public var listCache: Bool
        /// Proxies whose X-Real-IP names the client (`TrustedProxies`); nil: every request is its TCP peer's.
        public var trustedProxies: String?

        public init(instance: String, database: DatabaseConfiguration, replicas: [DatabaseConfiguration], broker: AMQPConfiguration,
                    redis: RedisConfiguration, secrets: SecretBox, jwtPublicKeyPEM: String, jwtPrivateKeyPEM: String, host: String,
                    port: Int, metricsHost: String, metricsPort: Int, listCache: Bool, trustedProxies: String?) {
            self.instance = instance
            self.database = database
            self.replicas = replicas
            self.broker = broker
            self.redis = redis
            self.secrets = secrets
            self.jwtPublicKeyPEM = jwtPublicKeyPEM
            self.jwtPrivateKeyPEM = jwtPrivateKeyPEM
            self.host = host
            self.port = port
            self.metricsHost = metricsHost
            self.metricsPort = metricsPort
            self.listCache = listCache
            self.trustedProxies = trustedProxies
        }
    }

    /// Runs the backend until SIGTERM or SIGINT.
    public static func run(_ configuration: Configuration, logger: Logger) async throws {
        // Tasks run on NIO's event loops instead of Swift's separate cooperative pool: a request's handler then
        // resumes on the loop its connection lives on, not on another thread after every await (ApiBench: about
        // +28% requests/s on 2 cores). Safe here because nothing in the backend blocks a task: bcrypt runs on
        // NIOThreadPool, AMQP and Redis on their own owner threads. Once per process, before any server starts.
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        let client = configuration.database.makeClient(backgroundLogger: logger)
        let tokens = try await TokenService(publicKeyPEM: configuration.jwtPublicKeyPEM, privateKeyPEM: configuration.jwtPrivateKeyPEM)
        let repositories = Repositories(context: DatabaseContext(client: client, secrets: configuration.secrets, logger: logger,
                                                                 preparesStatements: configuration.database.preparedStatements))
        let redis = RedisClient(configuration: configuration.redis, logger: logger)
        let outbox = OutboxNotifier(client: client, logger: logger)
        let hub = LiveHub()
        let listCache: ListCache? = configuration.listCache ? ListCache() : nil
        let metrics = BackendMetrics(hub: hub, listCache: listCache)
        let presentation = AlarmPresentation(client: client, logger: logger)
        let feed = LiveEventFeed(
            consumer: QueueConsumer(configuration: configuration.broker, topology: StamTopology.messaging, queue: "backend.live",
                                    instance: configuration.instance, logger: logger),
            hub: hub, catalog: LiveEventCatalog(StamSchema.eventTypes), listCache: listCache, metrics: metrics, presentation: presentation,
            logger: logger)
        // The backend side of the SMS path (the deployment has no container of its own for it): every backend
        // competes on sms.inbox, and the idempotent consumer makes a redelivery or a second backend harmless.
        let (smsConsumer, smsQueue) = SmsIngest.consumer(broker: configuration.broker, database: configuration.database,
                                                         repositories: repositories, outbox: outbox, registry: metrics.registry,
                                                         logger: logger)
        // Every backend escalates: two at once never escalate an alarm twice (see AlarmEscalator).
        let escalator = AlarmEscalator(client: client, repositories: repositories, notifier: outbox, logger: logger,
                                       escalated: { metrics.recordEscalated($0) })
        let supervisor = SignalSupervisor(client: client, repositories: repositories, notifier: outbox, logger: logger)
        let schedules = ScheduleSupervisor(client: client, repositories: repositories, notifier: outbox, logger: logger)
        let probeLogger = logger
        let readiness = [
            .postgres(logger: probeLogger) { client },
            ReadinessCheck("redis") { try await redis.ping() },
            ReadinessCheck("rabbitmq") { try feed.checkConnected() },
        ]
        let reportDatabase = ReportDatabase(replicas: configuration.replicas, primary: client, logger: logger)
        let lagMonitor = ReplicationLagMonitor(reports: reportDatabase, metrics: metrics, logger: logger)
        let proxies = TrustedProxies(list: configuration.trustedProxies, logger: logger)
        let backend = BackendRouter(repositories: repositories, tokens: tokens, outbox: outbox, readiness: readiness,
                                    reports: ReportsController(database: reportDatabase), metrics: metrics,
                                    listCache: listCache, proxies: proxies)
        let application = BackendApplication.make(
            router: backend.build(), live: LiveSocket(hub: hub, tokens: tokens, sessions: backend.sessions, state: RedisLiveState(client: redis)),
            host: configuration.host, port: configuration.port, metrics: metrics, logger: logger)
        let observability = backend.observability(host: configuration.metricsHost, port: configuration.metricsPort, logger: logger)
        logger.info("backend starting", metadata: [
            "instance": "\(configuration.instance)", "database": "\(configuration.database.redactedURL)",
            "broker": "\(configuration.broker.redactedURL)", "port": "\(configuration.port)",
            "metrics": "\(configuration.metricsHost):\(configuration.metricsPort)",
        ])
        let services: [any Service] = [client, proxies, outbox, feed, smsConsumer, escalator, supervisor, schedules, presentation, application, observability] + (lagMonitor.map { [$0] } ?? [])
        let group = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) },
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        await smsQueue.close()
    }
}
