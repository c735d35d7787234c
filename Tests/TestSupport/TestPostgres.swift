import Database
import DevStack
import Foundation
import Logging
import MigrationSupport
import Testing

/// The one way tests get a PostgreSQL: a private PostgreSQL 15 started for the suite by the `.postgres`
/// trait (never an already running server), one fresh database per test.
public final class TestPostgres: Sendable {
    @TaskLocal public static var current: TestPostgres?

    public static let password = "test-password-\(UUID().uuidString.prefix(8))"

    public let server: PostgresServer
    public let runDirectory: String

    private init(server: PostgresServer, runDirectory: String) {
        self.server = server
        self.runDirectory = runDirectory
    }

    public static func start() async throws -> TestPostgres {
        let runDirectory = try RunDirectory.create("pg").path
        let server = PostgresServer(directory: "\(runDirectory)/pg", port: try FreePort.find())
        try await server.start()
        // One role for all tests: creating it per test would race between concurrently running tests.
        try server.ensureRole("app", password: password)
        try password.write(toFile: "\(runDirectory)/app_password", atomically: true, encoding: .utf8)
        return TestPostgres(server: server, runDirectory: runDirectory)
    }

    public func stop() {
        server.stop()
        try? FileManager.default.removeItem(atPath: runDirectory)
    }

    /// A fresh database with the project's migrations applied: what most suites start from.
    public func migratedDatabase(logger: Logger) async throws -> DatabaseConfiguration {
        let (url, passwordFile) = try await migratedDatabaseURL(logger: logger)
        return try DatabaseConfiguration(url: url, passwordFile: passwordFile)
    }

    /// `migratedDatabase`, as the URL and password file a `stam` child process is given. A copy of the suite's
    /// migrated template (`PostgresServer.createMigratedDatabase`).
    public func migratedDatabaseURL(logger: Logger) async throws -> (url: String, passwordFile: String) {
        try await server.createMigratedDatabase(Self.newDatabaseName(), owner: "app", passwordFile: "\(runDirectory)/app_password", logger: logger)
    }

    static func newDatabaseName() -> String {
        "t_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
    }

    /// A new, empty database owned by the `app` role, for one test.
    public func freshDatabase() throws -> (url: String, passwordFile: String) {
        let name = Self.newDatabaseName()
        try server.ensureDatabase(name, owner: "app")
        return (server.databaseURL(name, owner: "app"), "\(runDirectory)/app_password")
    }

}

/// `@Suite(.postgres)`: starts a private PostgreSQL 15 before the suite's tests and stops it after.
public struct PostgresTrait: SuiteTrait, TestScoping {
    public init() {}
    public var isRecursive: Bool { false }

    public func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        let postgres = try await TestPostgres.start()
        defer { postgres.stop() }
        try await TestPostgres.$current.withValue(postgres) {
            try await function()
        }
    }
}

extension Trait where Self == PostgresTrait {
    public static var postgres: Self { PostgresTrait() }
}
