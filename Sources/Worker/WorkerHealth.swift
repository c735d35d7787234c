import Logging
import Observability

/// The worker's readiness, asked through the worker's own connections (its PostgreSQL pool, its Redis client, its
/// command queue's consumer), never new ones: a probe that opened a PostgreSQL and an AMQP connection (and an OS
/// thread) per request exhausted PgBouncer under a few hundred requests and leaked threads while RabbitMQ was
/// down (issue 18). Concurrent and repeated probes share one evaluation a second (`SharedReadiness`).
public final class WorkerHealth: HealthEndpoints {
    private let metrics: WorkerMetrics
    private let shared: SharedReadiness<[String]>

    public init(worker: StamWorker, timeout: Duration = .seconds(2), logger: Logger) {
        metrics = worker.metrics
        shared = SharedReadiness {
            let checks = worker.readinessChecks(timeout: timeout, logger: logger)
            guard !checks.isEmpty else { return ["starting"] }
            let report = await ObservabilityServer.readiness(of: checks)
            return report.failing
        }
    }

    public func metricsText() -> String { metrics.render() }

    public func failingDependencies() async -> [String] { await shared.report() }
}
