/// What the worker's small HTTP port serves. Kept behind a protocol so the shared `Observability`
/// module's server (another branch) can serve the same thing without the worker changing.
public protocol HealthEndpoints: Sendable {
    /// Names of the dependencies that do not answer; empty when ready.
    func failingDependencies() async -> [String]
    /// The Prometheus text exposition.
    func metricsText() -> String
}
