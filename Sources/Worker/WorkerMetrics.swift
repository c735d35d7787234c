import Foundation
import NIOConcurrencyHelpers
import Observability
import Prometheus

/// The worker's counters, gauges and latency histogram in a Prometheus registry, served by the process's
/// `ObservabilityServer` like every other stam process's (same names as before the move: the generated alerts and
/// dashboards read them).
public final class WorkerMetrics: Sendable {
    /// Upper bounds of the latency histogram, in seconds.
    static let buckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    public let registry: PrometheusCollectorRegistry
    private let panelsOwnedGauge: Gauge
    private let fleetPanels: Gauge
    private let panelsConnected: Gauge
    private let reconnects: Counter
    private let eventsRead: Counter
    private let frameErrors: Counter
    private let lockLossesCounter: Counter
    private let fencingRefusals: Counter
    private let commitFailures: Counter
    private let alarmsRaised: Counter
    private let pollLatency: ValueHistogram
    private let panelsPushing: Gauge

    private struct State {
        var panelsOwned = 0
        var panelsConnected = 0
        var lockLosses = 0
        /// The owned panels' `stam_panel_connected` series: 1 while the integration link is synchronized.
        var panelConnected: [UUID: Gauge] = [:]
        /// Owned panels whose module pushes on the current connection.
        var pushing: Set<UUID> = []
    }

    private let state = NIOLockedValueBox(State())

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        panelsOwnedGauge = registry.makeGauge(descriptor: .named("stam_worker_panels_owned", "Panels whose lease this worker holds."))
        fleetPanels = registry.makeGauge(descriptor: .named("stam_worker_fleet_panels", "Enabled panels the lease managers share out (the whole fleet)."))
        panelsConnected = registry.makeGauge(descriptor: .named("stam_worker_panels_connected", "Owned panels with a synchronized integration link."))
        reconnects = registry.makeCounter(descriptor: .named("stam_worker_panel_reconnects_total", "Integration links re-established after a loss."))
        eventsRead = registry.makeCounter(descriptor: .named("stam_worker_events_read_total", "Event-log records read from panels."))
        frameErrors = registry.makeCounter(descriptor: .named("stam_worker_frame_errors_total", "Malformed or unexpected frames from panels."))
        lockLossesCounter = registry.makeCounter(descriptor: .named("stam_worker_lock_losses_total", "Panel leases lost (not counting shutdown)."))
        fencingRefusals = registry.makeCounter(descriptor: .named("stam_worker_fencing_refusals_total", "Writes refused by the fencing check."))
        commitFailures = registry.makeCounter(descriptor: .named("stam_worker_commit_failures_total", "Panel transactions that failed (events re-read)."))
        alarmsRaised = registry.makeCounter(descriptor: .named("stam_worker_alarms_raised_total", "Alarm rows committed."))
        panelsPushing = registry.makeGauge(descriptor: .named(
            "stam_worker_panels_pushing", "Owned panels whose module pushes its state changes (monitoring mode); the rest are polled."))
        pollLatency = registry.makeValueHistogram(
            descriptor: .named("stam_worker_poll_latency_seconds", "From a panel update reported by the client to its committed transaction."),
            buckets: Self.buckets)
    }

    func set(owned: Int) {
        state.withLockedValue { $0.panelsOwned = owned }
        panelsOwnedGauge.set(to: Double(owned))
    }

    func set(fleet: Int) { fleetPanels.set(to: Double(fleet)) }

    /// A panel this worker now owns: exported as not connected until its link synchronizes. Per panel, so the
    /// PanelDisconnected alert names the panel; a panel no worker owns has no series, which the PanelsUnwatched
    /// alert (fleet above the owned total) catches.
    func panelOwned(_ id: UUID) {
        state.withLockedValue { state in
            guard state.panelConnected[id] == nil else { return }
            let gauge = registry.makeGauge(
                descriptor: .named("stam_panel_connected", "1 while this worker's link to the panel is synchronized, 0 while it is owned but not."),
                labels: [("panel_id", id.uuidString.lowercased())])
            gauge.set(to: 0)
            state.panelConnected[id] = gauge
        }
    }

    /// Only for owned panels: a session that already gave its panel up must not bring the series back.
    func panel(_ id: UUID, connected: Bool) {
        state.withLockedValue { $0.panelConnected[id]?.set(to: connected ? 1 : 0) }
    }

    /// The panel went to another worker (or nobody): its series leaves this worker's page.
    func panelReleased(_ id: UUID) {
        let pushing = state.withLockedValue { state in
            if let gauge = state.panelConnected.removeValue(forKey: id) { registry.unregisterGauge(gauge) }
            state.pushing.remove(id)
            return state.pushing.count
        }
        panelsPushing.set(to: Double(pushing))
    }

    /// Whether the panel's module pushes on the current connection (only owned panels count).
    func panel(_ id: UUID, pushing: Bool) {
        let count = state.withLockedValue { state in
            if pushing && state.panelConnected[id] != nil { state.pushing.insert(id) } else { state.pushing.remove(id) }
            return state.pushing.count
        }
        panelsPushing.set(to: Double(count))
    }

    /// A module that was asked to push and is polled instead (`stam_worker_push_fallbacks_total{reason}`): refused,
    /// unanswered, or stopped-pushing (seen by a keepalive).
    func pushFallback(_ reason: String) {
        registry.makeCounter(descriptor: .named("stam_worker_push_fallbacks_total",
                                                "Connections that asked the module to push and poll instead: refused, unanswered or stopped-pushing."),
                             labels: [("reason", reason)])
            .increment()
    }

    func connectedChanged(by delta: Int) {
        let connected = state.withLockedValue { state in
            state.panelsConnected = max(0, state.panelsConnected + delta)
            return state.panelsConnected
        }
        panelsConnected.set(to: Double(connected))
    }

    func reconnected() { reconnects.increment() }
    func read(events: Int) { eventsRead.increment(by: Int64(events)) }
    func frameError() { frameErrors.increment() }
    func lockLost() {
        state.withLockedValue { $0.lockLosses += 1 }
        lockLossesCounter.increment()
    }
    func fencingRefused() { fencingRefusals.increment() }
    func commitFailed() { commitFailures.increment() }
    func raised(alarms: Int) { alarmsRaised.increment(by: Int64(alarms)) }

    /// A panel's module does not serve a read (`stam_worker_unsupported_commands_total{command,reason}`), counted once
    /// per connection and command.
    func unsupportedCommand(_ command: String, reason: String) {
        registry.makeCounter(descriptor: .named("stam_worker_unsupported_commands_total",
                                                "Reads a panel's module does not serve, once per connection: refused (EF), unreadable or unanswered twice."),
                             labels: [("command", command), ("reason", reason)])
            .increment()
    }

    /// A panel command finished with `status` (`stam_worker_commands_total{status}`).
    func command(_ status: String) {
        registry.makeCounter(descriptor: .named("stam_worker_commands_total", "Panel commands finished, by status."), labels: [("status", status)])
            .increment()
    }

    /// One update from the panel client to its committed transaction.
    func observeLatency(seconds: Double) { pollLatency.record(seconds) }

    public var panelsOwned: Int { state.withLockedValue { $0.panelsOwned } }
    public var lockLosses: Int { state.withLockedValue { $0.lockLosses } }

    /// The registry in the Prometheus text format, as `/metrics` serves it.
    public func render() -> String { String(decoding: registry.emitToBuffer(), as: UTF8.self) }
}
