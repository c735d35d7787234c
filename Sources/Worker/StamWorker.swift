import Alarms
import Database
import Foundation
import Generated
import Leases
import Logging
import Messaging
import NIOConcurrencyHelpers
import Observability
import Outbox
import Persistence
import PostgresNIO
import Redis
import ServiceLifecycle

/// `stam worker`: owns a fair share of the panels (leases in Redis, fencing in PostgreSQL), turns what the
/// panels report into committed rows and outbox events, keeps their live state in Redis, and executes the
/// operators' commands on the panels it owns. Any number of workers may run; none is special.
public final class StamWorker: Service, Sendable {
    public let configuration: WorkerConfiguration
    public let metrics = WorkerMetrics()
    private let database: DatabaseConfiguration
    private let secrets: SecretBox?
    private let redis: RedisConfiguration
    private let amqp: AMQPConfiguration?
    private let logger: Logger
    private let sessions = NIOLockedValueBox<[UUID: PanelSession]>([:])
    /// The connections the running worker uses, which its readiness checks ask (nil until it runs).
    private let clients = NIOLockedValueBox<Clients?>(nil)

    private struct Clients: Sendable {
        var postgres: PostgresClient
        var redis: RedisClient
        var commands: QueueConsumer?
    }

    public init(configuration: WorkerConfiguration, database: DatabaseConfiguration, secrets: SecretBox?,
                redis: RedisConfiguration, amqp: AMQPConfiguration?, logger: Logger) {
        self.configuration = configuration
        self.database = database
        self.secrets = secrets
        self.redis = redis
        self.amqp = amqp
        var logger = logger
        logger[metadataKey: "worker"] = "\(configuration.workerID)"
        self.logger = logger
    }

    /// PostgreSQL, Redis and RabbitMQ (when the command queue is consumed), each asked through the worker's own
    /// client, never a new connection; each fails with "starting" until the worker has its clients.
    public func readinessChecks(timeout: Duration = .seconds(2), logger: Logger) -> [ReadinessCheck] {
        let clients = self.clients
        @Sendable func current() throws -> Clients {
            guard let current = clients.withLockedValue({ $0 }) else { throw WorkerError(.starting, "the worker has not opened its connections yet") }
            return current
        }
        return [
            .postgres(timeout: timeout, logger: logger) { try current().postgres },
            ReadinessCheck("redis", timeout: timeout) { try await current().redis.ping() },
            ReadinessCheck("rabbitmq", timeout: timeout) { try await current().commands?.checkConnection() },
        ]
    }

    /// The panels this worker holds now.
    public var ownedPanels: Set<UUID> { Set(sessions.withLockedValue { $0.keys }) }

    /// Shutdown order (SIGTERM, `stam down`): the lease manager reports every lease lost, each session closes its
    /// panel link and writes its last connection state, the executor finishes the command in flight and records
    /// its result, the loops end; only then do the database pool and the NOTIFY sender stop. The whole shutdown is
    /// bounded by `shutdownTimeout`: what is still running then is cancelled (its panel is read again by the next
    /// owner from the committed cursor; a command stays `sent` and is failed as "outcome unknown" at its expiry).
    public func run() async throws {
        let postgres = database.makeClient(backgroundLogger: logger)
        let repositories = Repositories(context: DatabaseContext(client: postgres, secrets: secrets, logger: logger))
        let leaseRedis = RedisClient(configuration: redis, logger: logger, name: "worker-leases")
        let stateRedis = RedisClient(configuration: redis, logger: logger, name: "worker-state")
        defer {
            // The clients own OS threads; close them whatever happened.
            Task { await leaseRedis.close(); await stateRedis.close() }
        }
        let outbox = OutboxNotifier(client: postgres, logger: logger)
        // Detached: both stop on graceful shutdown by themselves, which would close the pool before the sessions'
        // last writes (found by `WorkerShutdownTests`); they are cancelled once everything that writes has ended.
        let infrastructure = Task.detached {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await postgres.run() }
                group.addTask { await outbox.run() }
            }
        }
        let work = Task {
            try await self.runPanels(postgres: postgres, repositories: repositories, outbox: outbox,
                                     leaseRedis: leaseRedis, stateRedis: stateRedis)
        }
        let watchdog = NIOLockedValueBox<Task<Void, Never>?>(nil)
        let (timeout, logger) = (configuration.shutdownTimeout, logger)
        do {
            try await withTaskCancellationHandler {
                try await withGracefulShutdownHandler {
                    try await work.value
                } onGracefulShutdown: {
                    watchdog.withLockedValue {
                        $0 = Task {
                            guard (try? await Task.sleep(for: timeout)) != nil else { return }
                            logger.warning("graceful shutdown took longer than its bound; cancelling the rest", metadata: ["bound": "\(timeout)"])
                            work.cancel()
                        }
                    }
                }
            } onCancel: {
                work.cancel()
            }
        } catch {
            watchdog.withLockedValue { $0?.cancel() }
            infrastructure.cancel()
            await infrastructure.value
            throw error
        }
        watchdog.withLockedValue { $0?.cancel() }
        infrastructure.cancel()
        await infrastructure.value
        logger.info("worker stopped")
    }

    private func runPanels(postgres: PostgresClient, repositories: Repositories, outbox: OutboxNotifier,
                           leaseRedis: RedisClient, stateRedis: RedisClient) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            let panelIDs = try await Self.enabledPanels(postgres, logger: logger)
            metrics.set(fleet: panelIDs.count)
            let manager = try PanelLeaseManager(client: leaseRedis, workerID: configuration.workerID, panels: panelIDs,
                                                configuration: configuration.lease, logger: logger)
            let sessions = self.sessions
            let executor = CommandExecutor(client: postgres, repositories: repositories, outbox: outbox, metrics: metrics,
                                           interval: configuration.commandSweepInterval,
                                           databaseTimeout: configuration.databaseWriteTimeout,
                                           databaseOutageLimit: configuration.databaseOutageLimit,
                                           unknownOutcomeGrace: configuration.unknownOutcomeGrace, logger: logger,
                                           sessions: { sessions.withLockedValue { $0 } })
            let context = WorkerContext(
                configuration: configuration,
                panels: PanelStore(client: postgres, repositories: repositories, outbox: outbox,
                                   alarms: AlarmRaiser(repositories: repositories), logger: logger,
                                   idleInTransactionTimeout: configuration.lease.ttl),
                liveState: LiveStateStore(client: stateRedis), metrics: metrics, redis: stateRedis,
                leaseOwnerToken: manager.ownerToken, logger: logger, commandsReady: { executor.wake() },
                relinquish: { panelID, fencingToken in
                    await manager.relinquish(panelID.uuidString.lowercased(), fencingToken: fencingToken)
                })
            group.addTask { try await manager.run() }
            group.addTask { await executor.run() }
            group.addTask { await self.maintain(manager: manager, postgres: postgres) }
            group.addTask { await self.heartbeat(store: context.panels) }
            let queue = amqp.flatMap { amqp in
                configuration.consumeCommandQueue
                    ? QueueConsumer(configuration: amqp, topology: StamTopology.messaging, queue: "worker.commands", logger: logger) : nil
            }
            clients.withLockedValue { $0 = Clients(postgres: postgres, redis: stateRedis, commands: queue) }
            defer { clients.withLockedValue { $0 = nil } }
            if let queue {
                let consumer = IdempotentConsumer(
                    name: "worker.commands",
                    consumer: queue,
                    database: database.connectionConfiguration, logger: logger
                ) { delivery, _ in
                    // The row is the truth (see CommandExecutor); the message only says "look now".
                    self.logger.debug("command requested", metadata: ["message_id": "\(delivery.messageId ?? "")"])
                    executor.wake()
                }
                group.addTask { try await consumer.run() }
            }
            logger.info("worker started", metadata: ["panels": "\(panelIDs.count)", "owner": "\(manager.ownerToken)"])
            for await change in manager.changes {
                switch change {
                case .acquired(let id, let fencingToken):
                    guard let panelID = UUID(uuidString: id) else { continue }
                    let session = PanelSession(panelID: panelID, fencingToken: fencingToken, context: context)
                    let previous = sessions.withLockedValue { sessions in
                        defer { sessions[panelID] = session }
                        return sessions[panelID]
                    }
                    previous?.stop()
                    metrics.panelOwned(panelID)
                    metrics.set(owned: sessions.withLockedValue { $0.count })
                    logger.info("panel acquired", metadata: ["panel": "\(panelID)", "fencing_token": "\(fencingToken)"])
                    group.addTask { await session.run() }
                case .lost(let id, let fencingToken, let reason):
                    guard let panelID = UUID(uuidString: id) else { continue }
                    // The panel link closes before anything else happens: the lease is ending.
                    let session = sessions.withLockedValue { sessions -> PanelSession? in
                        guard sessions[panelID]?.fencingToken == fencingToken else { return nil }
                        return sessions.removeValue(forKey: panelID)
                    }
                    session?.stop()
                    if session != nil { metrics.panelReleased(panelID) }
                    if reason != .shutdown { metrics.lockLost() }
                    metrics.set(owned: sessions.withLockedValue { $0.count })
                    logger.info("panel lost", metadata: ["panel": "\(panelID)", "reason": "\(reason.rawValue)"])
                }
            }
            // The manager ended (graceful shutdown): every lease was reported lost; stop the rest. Each session
            // writes its last state, the executor its command in flight, and the loops end by themselves.
            for session in sessions.withLockedValue({ $0.values }) { session.stop() }
            try await group.waitForAll()
        }
    }

    /// Re-reads the panel list and rebuilds missing live state, until the worker stops.
    private func maintain(manager: PanelLeaseManager, postgres: PostgresClient) async {
        var nextPanelList = ContinuousClock.now + configuration.panelListRefreshInterval
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.configuration.liveStateRefreshInterval) }
            for session in sessions.withLockedValue({ Array($0.values) }) {
                await session.refreshLiveStateIfMissing()
            }
            if ContinuousClock.now >= nextPanelList {
                nextPanelList = ContinuousClock.now + configuration.panelListRefreshInterval
                if let panels = try? await Self.enabledPanels(postgres, logger: logger) {
                    metrics.set(fleet: panels.count)
                    manager.updatePanels(panels)
                }
            }
        }
    }

    /// The signal of the panels whose module answers, for no-signal supervision, until the worker stops. A failed
    /// write is retried at the next beat: a database outage longer than a panel's period is a silence too.
    private func heartbeat(store: PanelStore) async {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let answering = sessions.withLockedValue { sessions in
                sessions.values.filter(\.isConnected).map { (id: $0.panelID, fencingToken: $0.fencingToken) }
            }
            do {
                try await store.touch(answering)
            } catch {
                logger.warning("panel signal heartbeat failed", metadata: ["panels": "\(answering.count)", "error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.configuration.signalHeartbeatInterval) }
        }
    }

    static func enabledPanels(_ postgres: PostgresClient, logger: Logger) async throws -> Set<String> {
        var ids = Set<String>()
        // A panel without an ETHM-1 address reports over SIA DC-09 only (the receiver takes its frames): no worker owns it.
        for try await id in try await postgres.query("SELECT id FROM panels WHERE enabled AND host IS NOT NULL", logger: logger).decode(UUID.self) {
            ids.insert(id.uuidString.lowercased())
        }
        return ids
    }
}
