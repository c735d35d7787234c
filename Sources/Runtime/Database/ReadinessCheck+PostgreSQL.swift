import Logging
import Observability
import PostgresNIO

extension ReadinessCheck {
    /// "postgresql": `SELECT 1` through the process's own pool. `client` returns it, or throws while the process has
    /// none yet (a worker that is starting). Never a connection per probe: a few hundred probes would exhaust
    /// PgBouncer (issue 18).
    public static func postgres(timeout: Duration = .seconds(2), logger: Logger,
                                client: @escaping @Sendable () throws -> PostgresClient) -> ReadinessCheck {
        ReadinessCheck("postgresql", timeout: timeout) {
            // Every row read: postgres-nio trips a precondition when the server closes a connection whose result
            // stream nobody read.
            _ = try await client().query("SELECT 1", logger: logger).collect()
        }
    }

    /// "postgresql" for a process without a pool (the relay and the SMS consumer hold dedicated connections): a
    /// connection of its own, closed after the query. `ObservabilityServer` shares one evaluation a second among
    /// all probes, which bounds these connections.
    public static func postgres(connecting configuration: PostgresConnection.Configuration, timeout: Duration = .seconds(2),
                                logger: Logger) -> ReadinessCheck {
        ReadinessCheck("postgresql", timeout: timeout) {
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 90, logger: logger)
            do {
                _ = try await connection.query("SELECT 1", logger: logger).collect()
            } catch {
                try? await connection.close()
                throw error
            }
            try await connection.close()
        }
    }
}
