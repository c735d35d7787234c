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
        consumeCommandQueue: Bool = true, beforeEventCommit: (@Sendable () async throws -> Void)? = nil
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
    }
}
