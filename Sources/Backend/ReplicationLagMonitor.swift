import Database
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// Samples how far the report replica is behind the primary every `interval` and exports it as
/// `pg_replication_lag_seconds` (the seed's 10 s / 60 s alerts), with `pg_replica_up` saying whether the
/// replica answered. Runs only when a replica is configured.
///
/// Lag is the age of the last replayed transaction, but only while WAL received is not yet replayed: on an
/// idle primary the last transaction can be hours old with nothing to replay, and that is no lag at all.
/// Asked on a primary (a replica promoted by failover) the answer is 0.
public struct ReplicationLagMonitor: Service {
    static let lagQuery: PostgresQuery = """
        SELECT CASE
            WHEN NOT pg_is_in_recovery() THEN 0::float8
            WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0::float8
            ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8, 0)
        END
        """

    let replica: PostgresConnection.Configuration
    let metrics: BackendMetrics
    let interval: Duration
    let logger: Logger

    /// Nil when the reports have no replica to watch (they run on the primary).
    public init?(reports: ReportDatabase, metrics: BackendMetrics, interval: Duration = .seconds(5), logger: Logger) {
        guard let replica = reports.replica else { return nil }
        self.init(replica: replica, metrics: metrics, interval: interval, logger: logger)
    }

    public init(replica: DatabaseConfiguration, metrics: BackendMetrics, interval: Duration = .seconds(5), logger: Logger) {
        self.init(replica: replica.connectionConfiguration, metrics: metrics, interval: interval, logger: logger)
    }

    init(replica: PostgresConnection.Configuration, metrics: BackendMetrics, interval: Duration, logger: Logger) {
        self.replica = replica
        self.metrics = metrics
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        var connection: PostgresConnection?
        defer { if let connection { Task { try? await connection.close() } } }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                if connection == nil || connection!.isClosed {
                    connection = try await PostgresConnection.connect(configuration: replica, id: 2, logger: logger)
                }
                let rows = try await connection!.query(Self.lagQuery, logger: logger).collect()
                metrics.recordReplication(lagSeconds: try rows.first?.decode(Double.self) ?? 0)
            } catch {
                logger.debug("replication lag probe failed", metadata: ["error": "\(String(reflecting: error).prefix(200))"])
                metrics.recordReplication(lagSeconds: nil)
                try? await connection?.close()
                connection = nil
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
