import APISupport
import Foundation
import Prometheus
import Synchronization

/// The backend's figures on `/metrics` of its own observability port (`BackendRouter.observability`), not the API's:
/// - `http_requests_total{method,route,status}` and `http_request_duration_seconds{method,route}`: the
///   route is the matched template (`/api/alarms/:id`), never the raw path, so ids cannot explode the series;
/// - `stam_websocket_clients`, `stam_websocket_slow_disconnects_total`, `stam_live_messages_delivered_total`:
///   read from the `LiveHub` at scrape time;
/// - `pg_replication_lag_seconds` and `pg_replica_up`, set by `ReplicationLagMonitor`;
/// - `stam_login_attempts_total{outcome}`, set by `LoginController`;
/// - `stam_http_requests_rejected_total{reason}`, set by `FirstRequestGuard` through `BackendApplication`;
/// - `stam_live_events_refused_total{reason}`, set by `LiveEventFeed`;
/// - `stam_ready`, set at scrape time from the readiness checks (see `ObservabilityServer.metricsResponse`).
public final class BackendMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let hub: LiveHub?
    let listCache: ListCache?
    /// What the hub's totals were at the last scrape, to turn them into counter increments.
    private let counterValues = Mutex<[String: Int]>([:])

    /// Seconds; requests of this API are expected in single milliseconds, reports in seconds.
    static let durationBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(20), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
    ]

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), hub: LiveHub? = nil, listCache: ListCache? = nil) {
        self.registry = registry
        self.hub = hub
        self.listCache = listCache
    }

    func recordRequest(method: String, route: String, status: Int, duration: Duration) {
        registry.makeCounter(name: "http_requests_total",
                             labels: [("method", method), ("route", route), ("status", String(status))],
                             help: "HTTP requests answered, by method, matched route and status.")
            .increment()
        registry.makeDurationHistogram(name: "http_request_duration_seconds",
                                       labels: [("method", method), ("route", route)],
                                       buckets: Self.durationBuckets,
                                       help: "Time from the request's arrival to its response, by method and matched route.")
            .record(duration)
    }

    /// `stam_login_attempts_total{outcome}`: success, refused (wrong login or password), throttled_account_address,
    /// throttled_address. The login-storm alert watches the refusals.
    func recordLogin(outcome: String) {
        registry.makeCounter(name: "stam_login_attempts_total", labels: [("outcome", outcome)],
                             help: "Login attempts by outcome: success, refused (wrong credentials), throttled_account_address, throttled_address.")
            .increment()
    }

    /// `stam_http_requests_rejected_total{reason}`: connections answered and closed before any route saw them
    /// (`FirstRequestGuard`): malformed_request (400), header_timeout (408).
    func recordRejectedRequest(_ rejection: FirstRequestGuard.Rejection) {
        registry.makeCounter(name: "stam_http_requests_rejected_total", labels: [("reason", rejection.rawValue)],
                             help: "Requests answered and closed before routing, by reason: malformed_request (400), header_timeout (408).")
            .increment()
    }

    /// `stam_live_events_refused_total{reason}`: deliveries on the live queue that are not an event the schema
    /// declares (see `LiveEventCatalog`); any of them means a producer publishes what it should not.
    func recordRefusedLiveEvent(_ refusal: LiveEventCatalog.Refusal) {
        registry.makeCounter(name: "stam_live_events_refused_total", labels: [("reason", refusal.rawValue)],
                             help: "Deliveries on the live queue refused before reaching consoles, by reason: unknown_type, wrong_route, malformed.")
            .increment()
    }

    /// `stam_live_resyncs_total{reason}`: times every console was told to re-read (the live feed reconnected, or
    /// a publisher's sequence skipped: the live queue dropped or the broker lost messages).
    func recordLiveResync(_ reason: String) {
        registry.makeCounter(name: "stam_live_resyncs_total", labels: [("reason", reason)],
                             help: "Times consoles were told to re-read because the live feed may have missed events, by reason: reconnected, gap.")
            .increment()
    }

    /// `stam_alarms_escalated_total`: alarms this backend escalated (not acknowledged within their class's target).
    func recordEscalated(_ count: Int) {
        registry.makeCounter(name: "stam_alarms_escalated_total",
                             help: "Alarms escalated by this backend: not acknowledged within their class's acknowledge_within.")
            .increment(by: Int64(count))
    }

    func recordReplication(lagSeconds: Double?) {
        registry.makeGauge(name: "pg_replica_up", help: "1 when the report replica answered the last lag probe, else 0.")
            .set(to: lagSeconds == nil ? 0.0 : 1.0)
        if let lagSeconds {
            registry.makeGauge(name: "pg_replication_lag_seconds",
                               help: "Seconds the report replica is behind the primary (0 when caught up).")
                .set(to: lagSeconds)
        }
    }

    /// Copies the live hub's figures into the registry; called just before each scrape.
    public func refreshLiveFigures() {
        if let listCache {
            let counts = listCache.counts
            for (result, total) in [("hit", counts.hits), ("miss", counts.misses), ("bypass", counts.bypasses)] {
                setCounter("stam_list_cache_requests_total", labels: [("result", result)], to: total,
                           help: "List requests of cached entities: answered from memory, read and stored, or read with the cache off.")
            }
            setCounter("stam_list_cache_invalidations_total", to: counts.invalidations,
                       help: "Times an entity's cached lists were dropped (events, writes through this backend, live feed state).")
            registry.makeGauge(name: "stam_list_cache_enabled", help: "1 while list answers may be cached (the live feed is connected).")
                .set(to: listCache.isEnabled ? 1 : 0)
        }
        guard let hub else { return }
        registry.makeGauge(name: "stam_websocket_clients", help: "WebSocket clients connected to this backend.")
            .set(to: Double(hub.clientCount))
        setCounter("stam_websocket_slow_disconnects_total", to: hub.slowDisconnects,
                   help: "WebSocket clients disconnected because their queue was full.")
        setCounter("stam_live_messages_delivered_total", to: hub.deliveredCount,
                   help: "Live event messages queued to WebSocket clients.")
    }

    /// The hub keeps its own monotonic totals; the registry's counter catches up to them.
    private func setCounter(_ name: String, labels: [(String, String)] = [], to total: Int, help: String) {
        let counter = registry.makeCounter(name: name, labels: labels, help: help)
        let key = ([name] + labels.map { "\($0.0)=\($0.1)" }).joined(separator: ",")
        let exported = counterValues.withLock { values -> Int in
            let previous = values[key] ?? 0
            values[key] = max(previous, total)
            return max(0, total - previous)
        }
        if exported > 0 { counter.increment(by: Int64(exported)) }
    }
}
