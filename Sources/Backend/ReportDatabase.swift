import Database
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// Where reports run: the replica (`DATABASE_REPLICA_URL`), so long scans do not load the primary; when the
/// replica cannot be reached, the primary, with a WARNING in the log each time. A report opens its own
/// connection with a short connect timeout rather than leasing from a pool: reports are rare, and a pool
/// towards a dead replica would make the request wait instead of falling back.
public struct ReportDatabase: Sendable {
    let replica: PostgresConnection.Configuration?
    let primary: PostgresClient
    let logger: Logger

    public init(replica: DatabaseConfiguration?, primary: PostgresClient, logger: Logger, connectTimeout: TimeAmount = .seconds(2)) {
        self.replica = replica.map {
            var configuration = $0.connectionConfiguration
            configuration.options.connectTimeout = connectTimeout
            return configuration
        }
        self.primary = primary
        self.logger = logger
    }

    public enum Source: String, Sendable { case replica, primary }

    /// Runs `query` on the replica, else on the primary; says which one answered.
    public func rows(_ query: PostgresQuery) async throws -> (rows: [PostgresRow], source: Source) {
        if let replica {
            let connection: PostgresConnection?
            do {
                connection = try await PostgresConnection.connect(configuration: replica, id: 1, logger: logger)
            } catch {
                logger.warning("reports: replica unreachable, running on the primary", metadata: ["error": "\(String(reflecting: error).prefix(200))"])
                connection = nil
            }
            if let connection {
                do {
                    let rows = try await connection.query(query, logger: logger).collect()
                    try? await connection.close()
                    return (rows, .replica)
                } catch {
                    try? await connection.close()
                    throw error
                }
            }
        } else {
            logger.warning("reports: no replica configured (DATABASE_REPLICA_URL), running on the primary")
        }
        return (try await primary.query(query, logger: logger).collect(), .primary)
    }
}
