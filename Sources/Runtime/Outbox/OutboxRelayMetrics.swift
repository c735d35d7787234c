import Foundation
import Prometheus
import Synchronization

/// The relay's figures, exported through a Prometheus registry (served by `ObservabilityServer` at
/// `/metrics`) and readable here by tests:
/// - `outbox_relay_active_instances` (gauge): relays whose heartbeat in `outbox_relays` is fresh, as this
///   relay last counted them; the generated alert fires below 1;
/// - `outbox_published_total`, `outbox_publish_failures_total` (counters): rows published with a confirm,
///   and relay batches that failed (broker or database unavailable) and will be retried;
/// - `outbox_batch_duration_seconds` (histogram): claim + publish + confirm + mark + commit of one batch;
/// - `outbox_pending_rows` (gauge): unpublished rows, refreshed with the heartbeat (a growing backlog is the
///   early sign of an event that is late);
/// - `outbox_pruned_rows_total{table}` (counter): rows removed by retention (`OutboxPruner`).
///
/// Relays of one process may share a registry (the series are then shared); tests give each its own.
public final class OutboxRelayMetrics: Sendable {
    private struct State {
        var published = 0
        var failedBatches = 0
        var batches = 0
        var batchSeconds = 0.0
        var activeInstances = 0
        var pendingRows = 0
        var prunedOutboxRows = 0
        var prunedProcessedMessages = 0
    }

    private let state = Mutex(State())
    public let registry: PrometheusCollectorRegistry
    private let publishedCounter: Counter
    private let failuresCounter: Counter
    private let batchDuration: DurationHistogram
    private let activeInstancesGauge: Gauge
    private let pendingRowsGauge: Gauge
    private let prunedOutboxCounter: Counter
    private let prunedProcessedCounter: Counter

    /// Batches take milliseconds when healthy and up to the confirm timeout (30 s) when the broker struggles.
    static let batchBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
    ]

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        publishedCounter = registry.makeCounter(name: "outbox_published_total", help: "Outbox rows published with a broker confirm and marked published.")
        failuresCounter = registry.makeCounter(name: "outbox_publish_failures_total",
                                               help: "Relay batches that failed (broker or database unavailable) and are retried.")
        batchDuration = registry.makeDurationHistogram(name: "outbox_batch_duration_seconds", buckets: Self.batchBuckets,
                                                       help: "Time of one relay batch: claim, publish, confirms, mark, commit.")
        activeInstancesGauge = registry.makeGauge(name: "outbox_relay_active_instances", help: "Relays with a fresh heartbeat in outbox_relays.")
        pendingRowsGauge = registry.makeGauge(name: "outbox_pending_rows", help: "Outbox rows not yet published.")
        prunedOutboxCounter = registry.makeCounter(name: "outbox_pruned_rows_total", labels: [("table", "outbox")],
                                                   help: "Rows deleted by retention.")
        prunedProcessedCounter = registry.makeCounter(name: "outbox_pruned_rows_total", labels: [("table", "processed_messages")],
                                                      help: "Rows deleted by retention.")
    }

    func recordBatch(published: Int, duration: Duration) {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        state.withLock {
            $0.published += published
            $0.batches += 1
            $0.batchSeconds += seconds
        }
        publishedCounter.increment(by: Int64(published))
        batchDuration.record(duration)
    }

    func recordFailure() {
        state.withLock { $0.failedBatches += 1 }
        failuresCounter.increment()
    }

    func setActiveInstances(_ count: Int) {
        state.withLock { $0.activeInstances = count }
        activeInstancesGauge.set(Double(count))
    }

    func setPendingRows(_ count: Int) {
        state.withLock { $0.pendingRows = count }
        pendingRowsGauge.set(Double(count))
    }

    func recordPruned(outbox: Int, processedMessages: Int) {
        state.withLock {
            $0.prunedOutboxRows += outbox
            $0.prunedProcessedMessages += processedMessages
        }
        if outbox > 0 { prunedOutboxCounter.increment(by: Int64(outbox)) }
        if processedMessages > 0 { prunedProcessedCounter.increment(by: Int64(processedMessages)) }
    }

    public var published: Int { state.withLock { $0.published } }
    public var failedBatches: Int { state.withLock { $0.failedBatches } }
    public var activeInstances: Int { state.withLock { $0.activeInstances } }
    public var pendingRows: Int { state.withLock { $0.pendingRows } }
    public var batches: Int { state.withLock { $0.batches } }
    public var prunedOutboxRows: Int { state.withLock { $0.prunedOutboxRows } }
    public var prunedProcessedMessages: Int { state.withLock { $0.prunedProcessedMessages } }
}
