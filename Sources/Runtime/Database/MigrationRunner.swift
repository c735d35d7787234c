import Foundation
import Logging
import MigrationSupport
import PostgresNIO

/// `stam migrate`: applies pending migrations in order, each in its own transaction, and records each in
/// `schema_migrations` with its checksum.
///
/// Concurrency: every transaction first takes `pg_advisory_xact_lock`, then re-reads what is applied. A
/// transaction-scoped lock is used (not a session lock) because production connects through PgBouncer in
/// transaction pooling mode, where a session lock could be taken on one server connection and released on
/// another. Two runners starting together therefore serialise per migration, and the second one finds each
/// migration already recorded and skips it.
///
/// Crash safety: a migration and its `schema_migrations` row commit together, so a runner killed at any
/// point leaves either the whole migration applied and recorded, or nothing; the next run resumes.
public struct MigrationRunner: Sendable {
    /// `pg_advisory_xact_lock` key: the ASCII of "stammigr".
    public static let lockKey: Int64 = 0x7374_616D_6D69_6772

    public struct Report: Sendable, Hashable {
        public var applied: [String] = []
        public var alreadyApplied: [String] = []
    }

    public struct RefusedError: Error, CustomStringConvertible, Sendable {
        public var file: String
        public var message: String
        public var description: String { "\(file): error: \(message)" }
    }

    let configuration: DatabaseConfiguration
    let logger: Logger

    public init(configuration: DatabaseConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    public func run(directory: MigrationDirectory) async throws -> Report {
        try directory.verify()
        let connection = try await PostgresConnection.connect(
            configuration: configuration.connectionConfiguration, id: 1, logger: logger)
        do {
            let report = try await run(directory: directory, on: connection)
            try await connection.close()
            return report
        } catch {
            try? await connection.close()
            throw error
        }
    }

    func run(directory: MigrationDirectory, on connection: PostgresConnection) async throws -> Report {
        let known = Dictionary(uniqueKeysWithValues: directory.files.map { ($0.name, $0) })
        // Refuse before touching anything when the database has history this build does not agree with.
        let applied = try await transaction(on: connection) { connection in
            try await lockAndPrepare(connection)
            return try await appliedMigrations(connection)
        }
        for (name, checksum) in applied.sorted(by: { $0.key < $1.key }) {
            guard let file = known[name] else {
                throw RefusedError(file: "\(directory.path)/\(name).sql",
                                   message: "the database has migration \(name) applied, but this build has no such file; a newer version of stam migrated it")
            }
            if file.checksum != checksum {
                throw RefusedError(file: "\(directory.path)/\(file.fileName)",
                                   message: "applied with checksum \(checksum) but the file now has \(file.checksum); an applied migration was edited")
            }
        }
        var report = Report()
        for file in directory.files {
            let outcome = try await transaction(on: connection) { connection -> Bool in
                try await lockAndPrepare(connection)
                if let checksum = try await appliedMigrations(connection)[file.name] {
                    if checksum != file.checksum {
                        throw RefusedError(file: "\(directory.path)/\(file.fileName)",
                                           message: "applied with checksum \(checksum) but the file now has \(file.checksum)")
                    }
                    return false
                }
                let start = ContinuousClock.now
                for statement in SQLScript.statements(in: file.sql) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                let elapsed = (ContinuousClock.now - start).components
                let milliseconds = Int(elapsed.seconds * 1000 + elapsed.attoseconds / 1_000_000_000_000_000)
                try await connection.query(
                    "INSERT INTO schema_migrations (name, checksum, execution_ms) VALUES (\(file.name), \(file.checksum), \(milliseconds))",
                    logger: logger)
                return true
            }
            if outcome {
                logger.info("applied migration", metadata: ["migration": "\(file.name)"])
                report.applied.append(file.name)
            } else {
                report.alreadyApplied.append(file.name)
            }
        }
        return report
    }

    /// `withTransaction`, but a refusal raised inside comes out as itself rather than wrapped, so the
    /// operator reads the file name and reason.
    private func transaction<Result: Sendable>(
        on connection: PostgresConnection, _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        do {
            return try await connection.withTransaction(logger: logger) { try await body($0) }
        } catch let error as PostgresTransactionError {
            if let refused = error.closureError as? RefusedError { throw refused }
            throw error
        }
    }

    private func lockAndPrepare(_ connection: PostgresConnection) async throws {
        _ = try await connection.query("SELECT pg_advisory_xact_lock(\(Self.lockKey))", logger: logger).collect()
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                name text PRIMARY KEY,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now(),
                execution_ms integer NOT NULL
            )
            """, logger: logger)
    }

    private func appliedMigrations(_ connection: PostgresConnection) async throws -> [String: String] {
        var applied: [String: String] = [:]
        let rows = try await connection.query("SELECT name, checksum FROM schema_migrations", logger: logger)
        for try await (name, checksum) in rows.decode((String, String).self) {
            applied[name] = checksum
        }
        return applied
    }
}
