import APISupport
import Database
import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// Where reports run: a node that is a replica right now, so long scans do not load the primary.
///
/// `DATABASE_REPLICA_URL` names the candidates (comma-separated URLs; the deployment names both Patroni nodes,
/// since after a failover the "replica" host is the primary and the old primary is the replica). Each report asks
/// the candidates in turn, connecting with a short timeout, and runs on the first that answers
/// `pg_is_in_recovery()` true; when none does (all down, or every one a primary, as in dev where the replica URL is
/// the database itself), it runs on the primary pool. `source` says where it really ran (`X-Report-Source`).
/// The fall back to the primary is logged at WARNING once per change of source, not per request.
///
/// A report opens its own connection rather than leasing from a pool: reports are rare, and a pool towards a
/// dead replica would make the request wait instead of moving on.
public struct ReportDatabase: Sendable {
    let replicas: [PostgresConnection.Configuration]
    let primary: PostgresClient
    let logger: Logger
    /// How long one report may run before PostgreSQL stops it.
    let statementTimeout: Duration
    private let lastSource = SourceMemory()

    public init(replicas: [DatabaseConfiguration], primary: PostgresClient, logger: Logger, connectTimeout: TimeAmount = .seconds(2),
                statementTimeout: Duration = .seconds(10)) {
        self.statementTimeout = statementTimeout
        self.replicas = replicas.map {
            var configuration = $0.connectionConfiguration
            configuration.options.connectTimeout = connectTimeout
            return configuration
        }
        self.primary = primary
        self.logger = logger
    }

    public init(replica: DatabaseConfiguration?, primary: PostgresClient, logger: Logger, connectTimeout: TimeAmount = .seconds(2),
                statementTimeout: Duration = .seconds(10)) {
        self.init(replicas: replica.map { [$0] } ?? [], primary: primary, logger: logger, connectTimeout: connectTimeout,
                  statementTimeout: statementTimeout)
    }

    /// The first candidate, which the lag monitor samples.
    var replica: PostgresConnection.Configuration? { replicas.first }

    public enum Source: String, Sendable { case replica, primary }

    /// Runs `query` on a node in recovery, else on the primary; says which one answered.
    public func rows(_ query: PostgresQuery) async throws -> (rows: [PostgresRow], source: Source) {
        var problems: [String] = []
        for (index, candidate) in replicas.enumerated() {
            let connection: PostgresConnection
            do {
                connection = try await PostgresConnection.connect(configuration: candidate, id: 1 + index, logger: logger)
            } catch {
                problems.append("\(Self.name(candidate)): unreachable")
                continue
            }
            do {
                let inRecovery = try await connection.query("SELECT pg_is_in_recovery()", logger: logger).collect().first?.decode(Bool.self) ?? false
                guard inRecovery else {
                    try? await connection.close()
                    problems.append("\(Self.name(candidate)): a primary")
                    continue
                }
                let rows = try await Self.bounded(query, on: connection, timeout: statementTimeout, logger: logger)
                try? await connection.close()
                noteSource(.replica, because: [])
                return (rows, .replica)
            } catch {
                try? await connection.close()
                throw error
            }
        }
        noteSource(.primary, because: replicas.isEmpty ? ["no replica configured (DATABASE_REPLICA_URL)"] : problems)
        let timeout = statementTimeout, logger = logger
        return (try await primary.withConnection { try await Self.bounded(query, on: $0, timeout: timeout, logger: logger) }, .primary)
    }

    /// Runs `query` in a read-only transaction that PostgreSQL cancels after `timeout` (`SET LOCAL`: the limit ends
    /// with the transaction, so a pooled connection goes back without it; through PgBouncer's transaction pooling
    /// the whole transaction stays on one server connection). A cancelled report is a 503 asking for a shorter
    /// period, never a request that holds a connection for as long as the scan takes.
    public static func bounded(_ query: PostgresQuery, on connection: PostgresConnection, timeout: Duration, logger: Logger) async throws -> [PostgresRow] {
        let milliseconds = max(1, Int(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000))
        _ = try await connection.query("BEGIN READ ONLY", logger: logger)
        do {
            _ = try await connection.query(PostgresQuery(unsafeSQL: "SET LOCAL statement_timeout = \(milliseconds)"), logger: logger)
            let rows = try await connection.query(query, logger: logger).collect()
            _ = try await connection.query("COMMIT", logger: logger)
            return rows
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            if let error = error as? PSQLError, error.serverInfo?[.sqlState] == "57014" {
                throw APIError(status: .serviceUnavailable, code: "report_too_slow",
                               message: "the report took longer than \(milliseconds / 1000) s and was stopped; ask for a shorter period")
            }
            throw error
        }
    }

    static func name(_ configuration: PostgresConnection.Configuration) -> String {
        "\(configuration.host ?? "?"):\(configuration.port ?? 5432)"
    }

    private func noteSource(_ source: Source, because reasons: [String]) {
        guard lastSource.exchange(source) != source else { return }
        if source == .primary {
            logger.warning("reports: no replica to run on; running on the primary until one is back", metadata: ["why": "\(reasons.joined(separator: "; "))"])
        } else {
            logger.info("reports: running on a replica")
        }
    }

    final class SourceMemory: Sendable {
        private let value = Mutex<Source?>(nil)
        /// Sets `source`, returns the one before.
        func exchange(_ source: Source) -> Source? { value.withLock { previous in defer { previous = source }; return previous } }
    }
}
