import Database
import Foundation
import Logging
import MigrationSupport
import PostgresNIO
import TestSupport
import Testing

/// `stam migrate` against a real PostgreSQL 15.
@Suite(.postgres, .integration, .tags(.integration)) struct MigrationRunnerTests {
    let logger = Logger(label: "test.migrate")

    func database() throws -> DatabaseConfiguration {
        let postgres = try #require(TestPostgres.current)
        let (url, passwordFile) = try postgres.freshDatabase()
        return try DatabaseConfiguration(url: url, passwordFile: passwordFile)
    }

    /// The first column of every row, as text.
    func query(_ configuration: DatabaseConfiguration, _ sql: String) async throws -> [String] {
        let connection = try await PostgresConnection.connect(configuration: configuration.connectionConfiguration, id: 9, logger: logger)
        var result: [String] = []
        do {
            let rows = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
            for try await value in rows.decode(String.self) { result.append(value) }
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
        return result
    }

    /// A migrations directory in a temp folder with the given files and a matching manifest.
    func migrations(_ files: [(String, String)]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("migrations-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        var parsed: [MigrationFile] = []
        for (name, sql) in files {
            try sql.write(toFile: "\(path)/\(name)", atomically: true, encoding: .utf8)
            parsed.append(try MigrationFile(fileName: name, sql: sql))
        }
        try MigrationManifest(files: parsed).rendered.write(toFile: "\(path)/manifest.sha256", atomically: true, encoding: .utf8)
        return path
    }

    @Test func appliesTheCommittedMigrationsToAnEmptyDatabase() async throws {
        let configuration = try database()
        let directory = try MigrationDirectory(path: TestPostgres.projectMigrations)
        let report = try await MigrationRunner(configuration: configuration, logger: logger).run(directory: directory)
        #expect(report.applied == directory.files.map(\.name))
        let tables = try await query(configuration, "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1")
        for table in ["sites", "panels", "partitions", "zones", "outputs", "panel_events", "alarms", "alarm_notes", "operators",
                      "commands", "sms_messages", "audit_entries", "outbox", "processed_messages", "schema_migrations"] {
            #expect(tables.contains(table), "missing table \(table)")
        }
        let recorded = try await query(configuration, "SELECT name || ' ' || checksum FROM schema_migrations ORDER BY name")
        #expect(recorded == directory.files.map { "\($0.name) \($0.checksum)" })
        // A second run applies nothing.
        let again = try await MigrationRunner(configuration: configuration, logger: logger).run(directory: directory)
        #expect(again.applied.isEmpty && again.alreadyApplied.count == directory.files.count)
    }

    @Test func concurrentRunnersApplyEachMigrationExactlyOnce() async throws {
        let configuration = try database()
        // Each migration appends to a log; a migration applied twice would log twice (or fail on CREATE).
        var files = [("0001_log.sql", "CREATE TABLE apply_log (migration text NOT NULL, at timestamptz DEFAULT clock_timestamp());\nINSERT INTO apply_log (migration) VALUES ('0001');\n")]
        for number in 2...8 {
            let name = String(format: "%04d_step_%d.sql", number, number)
            files.append((name, "CREATE TABLE step_\(number) (id int);\nSELECT pg_sleep(0.05);\nINSERT INTO apply_log (migration) VALUES ('\(String(format: "%04d", number))');\n"))
        }
        let directory = try MigrationDirectory(path: try migrations(files))
        let reports = try await withThrowingTaskGroup(of: MigrationRunner.Report.self) { group in
            for _ in 0..<4 {
                group.addTask { try await MigrationRunner(configuration: configuration, logger: logger).run(directory: directory) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        // Every migration was applied by exactly one runner; the others saw it recorded.
        let appliedByRunners = reports.flatMap(\.applied).sorted()
        #expect(appliedByRunners == directory.files.map(\.name))
        let log = try await query(configuration, "SELECT migration FROM apply_log ORDER BY at")
        #expect(log == (1...8).map { String(format: "%04d", $0) })
        #expect(try await query(configuration, "SELECT count(*)::text FROM schema_migrations") == ["8"])
    }

    @Test func concurrentRunnersOnTheRealMigrations() async throws {
        let configuration = try database()
        let directory = try MigrationDirectory(path: TestPostgres.projectMigrations)
        let reports = try await withThrowingTaskGroup(of: MigrationRunner.Report.self) { group in
            for _ in 0..<2 {
                group.addTask { try await MigrationRunner(configuration: configuration, logger: logger).run(directory: directory) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(reports.flatMap(\.applied).sorted() == directory.files.map(\.name))
    }

    @Test func aMigrationEditedAfterItWasAppliedIsRefused() async throws {
        let configuration = try database()
        let path = try migrations([("0001_a.sql", "CREATE TABLE a (id int);\n")])
        _ = try await MigrationRunner(configuration: configuration, logger: logger).run(directory: try MigrationDirectory(path: path))
        // Edited and re-listed in the manifest, so only the database can tell.
        let edited = "CREATE TABLE a (id int);\nDROP TABLE a;\n"
        try edited.write(toFile: "\(path)/0001_a.sql", atomically: true, encoding: .utf8)
        try MigrationManifest(files: [try MigrationFile(fileName: "0001_a.sql", sql: edited)]).rendered
            .write(toFile: "\(path)/manifest.sha256", atomically: true, encoding: .utf8)
        await #expect {
            try await MigrationRunner(configuration: configuration, logger: logger).run(directory: try MigrationDirectory(path: path))
        } throws: { error in
            guard let refused = error as? MigrationRunner.RefusedError else { return false }
            return refused.file == "\(path)/0001_a.sql" && refused.message.contains("an applied migration was edited")
        }
        #expect(try await query(configuration, "SELECT count(*)::text FROM a") == ["0"])
    }

    @Test func aFileThatDisagreesWithTheManifestIsRefusedBeforeConnecting() async throws {
        let path = try migrations([("0001_a.sql", "CREATE TABLE a (id int);\n")])
        try "DROP TABLE everything;\n".write(toFile: "\(path)/0001_a.sql", atomically: true, encoding: .utf8)
        // An unreachable database proves the refusal comes first.
        let nowhere = DatabaseConfiguration(host: "127.0.0.1", port: 1, username: "app", database: "x", password: nil)
        await #expect(throws: MigrationFileError.self) {
            try await MigrationRunner(configuration: nowhere, logger: logger).run(directory: try MigrationDirectory(path: path))
        }
    }

    @Test func aDatabaseMigratedByANewerBuildIsRefused() async throws {
        let configuration = try database()
        let newer = try migrations([("0001_a.sql", "CREATE TABLE a (id int);\n"), ("0002_b.sql", "CREATE TABLE b (id int);\n")])
        _ = try await MigrationRunner(configuration: configuration, logger: logger).run(directory: try MigrationDirectory(path: newer))
        let older = try migrations([("0001_a.sql", "CREATE TABLE a (id int);\n")])
        await #expect {
            try await MigrationRunner(configuration: configuration, logger: logger).run(directory: try MigrationDirectory(path: older))
        } throws: { error in
            (error as? MigrationRunner.RefusedError)?.message.contains("a newer version of stam migrated it") == true
        }
    }

    @Test func aFailingMigrationLeavesNothingBehind() async throws {
        let configuration = try database()
        let path = try migrations([
            ("0001_a.sql", "CREATE TABLE a (id int);\n"),
            ("0002_broken.sql", "CREATE TABLE half (id int);\nINSERT INTO no_such_table VALUES (1);\n"),
        ])
        await #expect(throws: (any Error).self) {
            try await MigrationRunner(configuration: configuration, logger: logger).run(directory: try MigrationDirectory(path: path))
        }
        // 0001 committed; 0002 rolled back entirely: neither its first table nor its record exist.
        #expect(try await query(configuration, "SELECT name FROM schema_migrations") == ["0001_a"])
        #expect(try await query(configuration, "SELECT count(*)::text FROM pg_tables WHERE tablename = 'half'") == ["0"])
    }
}
