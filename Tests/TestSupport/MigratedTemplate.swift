import Database
import DevStack
import Foundation
import Logging
import MigrationSupport
import Synchronization

/// The project's migrations applied once per PostgreSQL server, into a template database; each test's database is a
/// copy of it (`CREATE DATABASE ... TEMPLATE`, as `owner`): the same tables, functions, triggers, owner and
/// `schema_migrations` rows as a database migrated on its own, without running every migration again for each of
/// the ~130 tests that start from a migrated database (most of a second each on the CI machine: fsync is on).
/// Migrating an empty database is what `MigrationRunnerTests` (and `stam up` in the stack tests) prove; the copies
/// are made by PostgreSQL, not by this code. Nothing connects to the template after it is migrated (a copy needs
/// that).
extension PostgresServer {
    /// A new database `name`, owned by `owner` (an existing role whose password is in `passwordFile`), with the
    /// project's migrations applied.
    public func createMigratedDatabase(_ name: String, owner: String, passwordFile: String, logger: Logger) async throws -> (url: String, passwordFile: String) {
        let template = try await MigratedTemplates.shared.template(of: self, owner: owner, passwordFile: passwordFile, logger: logger)
        try superuserSQL("CREATE DATABASE \(name) TEMPLATE \(template) OWNER \(owner)")
        return (databaseURL(name, owner: owner), passwordFile)
    }

    func databaseURL(_ name: String, owner: String) -> String { "postgresql://\(owner)@127.0.0.1:\(port)/\(name)" }
}

/// One migrated template per server (by data directory and port) and owner, made by the first test that needs it.
final class MigratedTemplates: Sendable {
    static let shared = MigratedTemplates()

    private let templates = Mutex<[String: Task<String, any Error>]>([:])

    func template(of server: PostgresServer, owner: String, passwordFile: String, logger: Logger) async throws -> String {
        let key = "\(server.dataDirectory):\(server.port):\(owner)"
        let task = templates.withLock { templates in
            if let task = templates[key] { return task }
            let task = Task { try await Self.make(on: server, owner: owner, passwordFile: passwordFile, logger: logger) }
            templates[key] = task
            return task
        }
        do {
            return try await task.value
        } catch {
            // Not cached: the next test tries again (and reports its own failure).
            templates.withLock { _ = $0.removeValue(forKey: key) }
            throw error
        }
    }

    private static func make(on server: PostgresServer, owner: String, passwordFile: String, logger: Logger) async throws -> String {
        let name = "migrated_template_\(owner)"
        // A server whose data directory outlived an earlier run may hold an older one.
        try server.superuserSQL("DROP DATABASE IF EXISTS \(name)")
        try server.superuserSQL("CREATE DATABASE \(name) OWNER \(owner)")
        let database = try DatabaseConfiguration(url: server.databaseURL(name, owner: owner), passwordFile: passwordFile)
        _ = try await MigrationRunner(configuration: database, logger: logger)
            .run(directory: try MigrationDirectory(path: TestPostgres.projectMigrations))
        return name
    }
}
