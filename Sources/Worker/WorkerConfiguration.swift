import Leases
import NIOCore
import Satel

/// How a `StamWorker` runs. Production uses the defaults; tests shorten the timings.
public struct WorkerConfiguration: Sendable {
    /// This worker's name in leases, panel rows (`owner_worker`) and events.
    public var workerID: String
    public var lease: PanelLeaseConfiguration
    /// Overrides every panel's `poll_interval_ms` (tests and the benchmark); nil uses the panel rows.
    public var pollInterval: TimeAmount?
    /// Overrides every panel's `mode` (the benchmark compares push with poll); nil uses the panel rows.
    public var stateDelivery: StateDeliveryMode?
    /// Between keepalives while a module pushes (the module drops a silent link after 25 s).
    public var keepaliveInterval: TimeAmount = .seconds(10)
    public var panelRequestTimeout: TimeAmount
    public var panelBackoff: ReconnectBackoff
    /// The pause after a failed panel transaction before the panel is read again from the committed cursor.
    public var retryDelay: Duration
    /// How often the owner looks for requested commands of its panels (the queue only wakes it sooner).
    public var commandSweepInterval: Duration
    /// How often the live state in Redis is checked and rebuilt when missing.
    public var liveStateRefreshInterval: Duration
    /// How often the set of enabled panels is re-read from PostgreSQL.
    public var panelListRefreshInterval: Duration
    /// How often `last_seen_at` of the panels whose module answers is refreshed (one statement for all of them):
    /// the signal no-signal supervision (`SignalSupervisor`) watches. Well under the shortest `signal_period_s`.
    public var signalHeartbeatInterval: Duration = .seconds(5)
    /// How long one database write (a panel transaction, a command's state) may take before the session or the
    /// executor gives up on it and starts over: a connection the network silently dropped must not hold the panel.
    public var databaseWriteTimeout: Duration
    /// How long a session may fail to reach the database before it gives its panel's lease up, so that a worker
    /// that reaches the database takes the panel over (default: three lease TTLs).
    public var databaseOutageLimit: Duration
    /// How long after its expiry a command left `sent` (no result recorded) is failed as "outcome unknown".
    public var unknownOutcomeGrace: Duration
    /// How long a graceful shutdown waits for the sessions' last writes and a command in flight before it cancels them.
    public var shutdownTimeout: Duration
    /// Consume `worker.commands` (off when no broker is configured).
    public var consumeCommandQueue: Bool
    /// Called inside a panel transaction that stores event-log records, after every write and before the
    /// commit. Only the crash test sets it (`STAM_WORKER_TEST_PAUSE_BEFORE_COMMIT`).
    public var beforeEventCommit: (@Sendable () async throws -> Void)?

    public init(
        workerID: String, lease: PanelLeaseConfiguration = PanelLeaseConfiguration(), pollInterval: TimeAmount? = nil,
        panelRequestTimeout: TimeAmount = .seconds(5), panelBackoff: ReconnectBackoff = ReconnectBackoff(),
        retryDelay: Duration = .seconds(1), commandSweepInterval: Duration = .milliseconds(500),
        liveStateRefreshInterval: Duration = .seconds(5), panelListRefreshInterval: Duration = .seconds(30),
        consumeCommandQueue: Bool = true, beforeEventCommit: (@Sendable () async throws -> Void)? = nil,
        databaseWriteTimeout: Duration = .seconds(10), databaseOutageLimit: Duration? = nil, shutdownTimeout: Duration = .seconds(15),
        unknownOutcomeGrace: Duration = .seconds(60)
    ) {
        self.workerID = workerID
        self.lease = lease
        self.pollInterval = pollInterval
        self.panelRequestTimeout = panelRequestTimeout
        self.panelBackoff = panelBackoff
        self.retryDelay = retryDelay
        self.commandSweepInterval = commandSweepInterval
        self.liveStateRefreshInterval = liveStateRefreshInterval
        self.panelListRefreshInterval = panelListRefreshInterval
        self.consumeCommandQueue = consumeCommandQueue
        self.beforeEventCommit = beforeEventCommit
        self.databaseWriteTimeout = databaseWriteTimeout
        self.databaseOutageLimit = databaseOutageLimit ?? lease.ttl * 3
        self.shutdownTimeout = shutdownTimeout
        self.unknownOutcomeGrace = unknownOutcomeGrace
    }
}
