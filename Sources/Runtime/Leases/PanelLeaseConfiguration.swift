/// The timing of panel leases. Production uses the defaults (a 10 s TTL); tests use 1–2 s.
///
/// The local deadline is `request sent + ttl − safetyMargin`; the margin covers the watchdog's tick, the
/// time the worker needs to close the panel connection after `lost`, and scheduling delays. Renewal runs
/// every `renewInterval`, so about `(ttl − safetyMargin) / renewInterval` attempts fit in one lease.
public struct PanelLeaseConfiguration: Sendable, Hashable {
    public var ttl: Duration
    public var safetyMargin: Duration
    public var renewInterval: Duration
    /// How often the manager counts live workers, takes free panels and sheds extra ones: a quarter of the TTL, so a
    /// dead worker's panels are taken within TTL + TTL/4 of its last renewal (plus the connect).
    public var scanInterval: Duration
    /// TTL of the `worker:<id>` heartbeat key (refreshed every `renewInterval`). The lease TTL by default: a dead
    /// worker's heartbeat then expires with its locks, so the survivors' quotas already count it out when its panels
    /// come free, and they take them at their next scan (at twice the TTL they took them only once it expired, about
    /// 20 s after the kill: WorkerBench's takeover run).
    public var workerHeartbeatTTL: Duration
    /// Once a worker released a panel to rebalance, it leaves it to the others for this long.
    public var handoverGrace: Duration
    /// How often the watchdog compares deadlines with the clock.
    public var watchdogTick: Duration
    public var keys: PanelLeaseKeys

    public init(ttl: Duration = .seconds(10), safetyMargin: Duration? = nil, renewInterval: Duration? = nil,
                scanInterval: Duration? = nil, workerHeartbeatTTL: Duration? = nil, handoverGrace: Duration? = nil,
                watchdogTick: Duration? = nil, keys: PanelLeaseKeys = PanelLeaseKeys()) {
        self.ttl = ttl
        let safetyMargin = safetyMargin ?? ttl / 4
        self.safetyMargin = safetyMargin
        self.renewInterval = renewInterval ?? ttl / 4
        let scanInterval = scanInterval ?? ttl / 4
        self.scanInterval = scanInterval
        self.workerHeartbeatTTL = workerHeartbeatTTL ?? ttl
        self.handoverGrace = handoverGrace ?? scanInterval * 3
        self.watchdogTick = watchdogTick ?? min(safetyMargin / 5, .milliseconds(100))
        self.keys = keys
    }

    public struct Invalid: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Rejects timings under which a healthy worker could not keep its leases.
    public func validate() throws {
        guard safetyMargin > .zero, safetyMargin < ttl else {
            throw Invalid(description: "lease safety margin \(safetyMargin) must be between 0 and the TTL \(ttl)")
        }
        guard renewInterval > .zero, renewInterval * 2 <= ttl - safetyMargin else {
            throw Invalid(description: "lease renew interval \(renewInterval) must allow two renewals within TTL − margin (\(ttl - safetyMargin))")
        }
        guard workerHeartbeatTTL > renewInterval * 2 else {
            throw Invalid(description: "worker heartbeat TTL \(workerHeartbeatTTL) must exceed two renew intervals")
        }
        guard watchdogTick > .zero, watchdogTick < safetyMargin else {
            throw Invalid(description: "watchdog tick \(watchdogTick) must be shorter than the safety margin")
        }
    }
}
