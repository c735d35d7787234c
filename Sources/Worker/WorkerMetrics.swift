import Foundation
import NIOConcurrencyHelpers

/// The worker's counters, gauges and one histogram, rendered in the Prometheus text format. Hand-written
/// (no swift-metrics backend yet): the `Observability` module will replace the rendering, not the names.
public final class WorkerMetrics: Sendable {
    /// Upper bounds of the latency histogram, in seconds.
    static let buckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    private struct State {
        var panelsOwned = 0
        var fleetPanels = 0
        /// The owned panels, true while the integration link is synchronized (`stam_panel_connected`).
        var panelConnected: [UUID: Bool] = [:]
        var panelsConnected = 0
        var reconnects = 0
        var eventsRead = 0
        var frameErrors = 0
        var lockLosses = 0
        var fencingRefusals = 0
        var commitFailures = 0
        var alarmsRaised = 0
        var commands: [String: Int] = [:]
        var latencyCounts = [Int](repeating: 0, count: WorkerMetrics.buckets.count)
        var latencySum = 0.0
        var latencyCount = 0
    }

    private let state = NIOLockedValueBox(State())

    public init() {}

    func set(owned: Int) { state.withLockedValue { $0.panelsOwned = owned } }
    func set(fleet: Int) { state.withLockedValue { $0.fleetPanels = fleet } }
    /// A panel this worker now owns: exported as not connected until its link synchronizes.
    func panelOwned(_ id: UUID) { state.withLockedValue { $0.panelConnected[id] = false } }
    /// Only for owned panels: a session that already gave its panel up must not bring the series back.
    func panel(_ id: UUID, connected: Bool) {
        state.withLockedValue { state in
            if state.panelConnected[id] != nil { state.panelConnected[id] = connected }
        }
    }
    /// The panel went to another worker (or nobody): its series leaves this worker's page.
    func panelReleased(_ id: UUID) { state.withLockedValue { $0.panelConnected[id] = nil } }
    func connectedChanged(by delta: Int) { state.withLockedValue { $0.panelsConnected = max(0, $0.panelsConnected + delta) } }
    func reconnected() { state.withLockedValue { $0.reconnects += 1 } }
    func read(events: Int) { state.withLockedValue { $0.eventsRead += events } }
    func frameError() { state.withLockedValue { $0.frameErrors += 1 } }
    func lockLost() { state.withLockedValue { $0.lockLosses += 1 } }
    func fencingRefused() { state.withLockedValue { $0.fencingRefusals += 1 } }
    func commitFailed() { state.withLockedValue { $0.commitFailures += 1 } }
    func raised(alarms: Int) { state.withLockedValue { $0.alarmsRaised += alarms } }
    func command(_ status: String) { state.withLockedValue { $0.commands[status, default: 0] += 1 } }

    /// One update from the panel client to its committed transaction.
    func observeLatency(seconds: Double) {
        state.withLockedValue { state in
            for (index, bound) in WorkerMetrics.buckets.enumerated() where seconds <= bound {
                state.latencyCounts[index] += 1
            }
            state.latencySum += seconds
            state.latencyCount += 1
        }
    }

    public var panelsOwned: Int { state.withLockedValue { $0.panelsOwned } }
    public var lockLosses: Int { state.withLockedValue { $0.lockLosses } }

    /// The Prometheus text exposition (version 0.0.4).
    public func render() -> String {
        let state = state.withLockedValue { $0 }
        var lines: [String] = []
        func metric(_ name: String, _ type: String, _ help: String, _ value: some CustomStringConvertible) {
            lines.append("# HELP \(name) \(help)")
            lines.append("# TYPE \(name) \(type)")
            lines.append("\(name) \(value)")
        }
        metric("stam_worker_panels_owned", "gauge", "Panels whose lease this worker holds.", state.panelsOwned)
        metric("stam_worker_fleet_panels", "gauge", "Enabled panels the lease managers share out (the whole fleet).", state.fleetPanels)
        metric("stam_worker_panels_connected", "gauge", "Owned panels with a synchronized integration link.", state.panelsConnected)
        metric("stam_worker_panel_reconnects_total", "counter", "Integration links re-established after a loss.", state.reconnects)
        metric("stam_worker_events_read_total", "counter", "Event-log records read from panels.", state.eventsRead)
        metric("stam_worker_frame_errors_total", "counter", "Malformed or unexpected frames from panels.", state.frameErrors)
        metric("stam_worker_lock_losses_total", "counter", "Panel leases lost (not counting shutdown).", state.lockLosses)
        metric("stam_worker_fencing_refusals_total", "counter", "Writes refused by the fencing check.", state.fencingRefusals)
        metric("stam_worker_commit_failures_total", "counter", "Panel transactions that failed (events re-read).", state.commitFailures)
        metric("stam_worker_alarms_raised_total", "counter", "Alarm rows committed.", state.alarmsRaised)
        // Per panel, so the PanelDisconnected alert names the panel; a panel no worker owns has no series here,
        // which the PanelsUnwatched alert (fleet above the owned total) catches.
        lines.append("# HELP stam_panel_connected 1 while this worker's link to the panel is synchronized, 0 while it is owned but not.")
        lines.append("# TYPE stam_panel_connected gauge")
        for (id, connected) in state.panelConnected.sorted(by: { $0.key.uuidString < $1.key.uuidString }) {
            lines.append("stam_panel_connected{panel_id=\"\(id.uuidString.lowercased())\"} \(connected ? 1 : 0)")
        }
        lines.append("# HELP stam_worker_commands_total Panel commands finished, by status.")
        lines.append("# TYPE stam_worker_commands_total counter")
        for (status, count) in state.commands.sorted(by: { $0.key < $1.key }) {
            lines.append("stam_worker_commands_total{status=\"\(status)\"} \(count)")
        }
        let name = "stam_worker_poll_latency_seconds"
        lines.append("# HELP \(name) From a panel update reported by the client to its committed transaction.")
        lines.append("# TYPE \(name) histogram")
        for (index, bound) in WorkerMetrics.buckets.enumerated() {
            lines.append("\(name)_bucket{le=\"\(bound)\"} \(state.latencyCounts[index])")
        }
        lines.append("\(name)_bucket{le=\"+Inf\"} \(state.latencyCount)")
        lines.append("\(name)_sum \(state.latencySum)")
        lines.append("\(name)_count \(state.latencyCount)")
        return lines.joined(separator: "\n") + "\n"
    }
}
