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
    private let lastSource = SourceMemory()

    public init(replicas: [DatabaseConfiguration], primary: PostgresClient, logger: Logger, connectTimeout: TimeAmount = .seconds(2)) {
        self.replicas = replicas.map {
            var configuration = $0.connectionConfiguration
            configuration.options.connectTimeout = connectTimeout
            return configuration
        }
        self.primary = primary
        self.logger = logger
    }

    public init(replica: DatabaseConfiguration?, primary: PostgresClient, logger: Logger, connectTimeout: TimeAmount = .seconds(2)) {
        self.init(replicas: replica.map { [$0] } ?? [], primary: primary, logger: logger, connectTimeout: connectTimeout)
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
                let rows = try await connection.query(query, logger: logger).collect()
                try? await connection.close()
                noteSource(.replica, because: [])
                return (rows, .replica)
            } catch {
                try? await connection.close()
                throw error
            }
        }
        noteSource(.primary, because: replicas.isEmpty ? ["no replica configured (DATABASE_REPLICA_URL)"] : problems)
        return (try await primary.query(query, logger: logger).collect(), .primary)
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
