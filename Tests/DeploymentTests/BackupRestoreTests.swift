import Foundation
import DevStack
import Testing
import TestSupport

/// The backup job as generated (deploy/generated/backup/stam-backup.sh), against a private PostgreSQL
/// 15 holding the project's migrations and data: it dumps to the backups directory and the NAS, copies
/// the media, keeps the newest dumps, refuses an unmounted NAS; a dump it made restores into an empty
/// database with the same contents.
@Suite(.integration, .tags(.integration)) struct BackupRestoreTests {
    @Test func aBackupRestoresIntoAnEmptyDatabase() async throws {
        _ = try DeploymentTools.tool("/usr/bin/rsync")
        _ = try DeploymentTools.tool("/usr/lib/postgresql/15/bin/postgres")
        let directory = try DeploymentTools.temporaryDirectory("backup")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = PostgresServer(directory: "\(directory)/pg", port: try FreePort.find())
        defer { server.stop() }
        try await server.start()
        if let process = server.process { DeploymentTools.record(process.pid, in: directory) }
        let password = "app-\(UUID().uuidString.prefix(12))"
        try server.ensureDatabase("stam", owner: "app", password: password)
        let app = ["PGPASSWORD": password, "PATH": "/usr/bin:/bin"]
        func psql(_ database: String, _ arguments: [String]) throws -> String {
            try LocalProcess.run("/usr/bin/psql", ["-h", "127.0.0.1", "-p", String(server.port), "-U", "app", "-d", database,
                                                   "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"] + arguments, environment: app)
        }
        // The project's schema (every committed migration) and some data.
        let migrations = try FileManager.default.contentsOfDirectory(atPath: "\(DeploymentTools.root)/migrations")
            .filter { $0.hasSuffix(".sql") }.sorted()
        #expect(!migrations.isEmpty)
        for migration in migrations { try psql("stam", ["-1", "-f", "\(DeploymentTools.root)/migrations/\(migration)"]) }
        try psql("stam", ["-c", "CREATE TABLE backup_probe (id int PRIMARY KEY, body text NOT NULL);"
                          + " INSERT INTO backup_probe SELECT g, md5(g::text) FROM generate_series(1, 5000) g;"])

        // The site: backups volume, NAS share (with its marker), media, the password secret, and the
        // generated backup.conf with this machine's paths and server instead of the container's.
        for path in ["backups", "nas", "media/photos", "bin"] {
            try FileManager.default.createDirectory(atPath: "\(directory)/\(path)", withIntermediateDirectories: true)
        }
        try "".write(toFile: "\(directory)/nas/.stam-nas", atomically: true, encoding: .utf8)
        try "photo".write(toFile: "\(directory)/media/photos/site-1.jpg", atomically: true, encoding: .utf8)
        try password.write(toFile: "\(directory)/postgres_password", atomically: true, encoding: .utf8)
        let site = ["PGHOSTS": "127.0.0.1", "PGPORTS": String(server.port), "PASSWORD_FILE": "\(directory)/postgres_password",
                    "BACKUP_DIR": "\(directory)/backups", "MEDIA_DIR": "\(directory)/media", "NAS_DIR": "\(directory)/nas", "DATABASE_KEEP": "2",
                    // This machine's server speaks plain TCP; the containers' verify-full is exercised by ProdStackTests.
                    "PGTLS": "\"\""]
        let generated = try DeploymentTools.read("backup/backup.conf")
        let configuration = generated.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard let name = line.split(separator: "=").first.map(String.init), let value = site[name] else { return String(line) }
            return "\(name)=\(value)"
        }.joined(separator: "\n")
        #expect(configuration.contains("DATABASE=stam") && configuration.contains("DATABASE_EVERY=14400"))
        try configuration.write(toFile: "\(directory)/stam-backup.conf", atomically: true, encoding: .utf8)
        let script = "\(directory)/bin/stam-backup"
        try DeploymentTools.read("backup/stam-backup.sh").write(toFile: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script)
        let environment = ["STAM_BACKUP_CONFIG": "\(directory)/stam-backup.conf", "PATH": "\(directory)/bin:/usr/bin:/bin"]
        func backup(_ arguments: [String]) throws -> (Int32, String) {
            try DeploymentTools.status(script, arguments, environment: environment)
        }
        func dumps(_ path: String) throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: "\(directory)/\(path)").filter { $0.hasSuffix(".dump") }.sorted()
        }

        // The schedule runs both jobs when they are due, and nothing when they are not.
        let first = try backup(["schedule", "--once"])
        #expect(first.0 == 0, "\(first.1)")
        #expect(try dumps("backups/db").count == 1 && dumps("nas/db").count == 1, "\(first.1)")
        #expect(FileManager.default.contentsEqual(atPath: "\(directory)/media/photos/site-1.jpg", andPath: "\(directory)/nas/media/photos/site-1.jpg"))
        let second = try backup(["schedule", "--once"])
        let afterSecond = try dumps("backups/db").count
        #expect(second.0 == 0 && afterSecond == 1, "\(second.1)")
        #expect(try backup(["health"]).0 == 0)

        // The newest DATABASE_KEEP dumps stay locally; the NAS keeps all, byte for byte.
        for _ in 0..<2 { #expect(try backup(["database"]).0 == 0) }
        let local = try dumps("backups/db")
        let nas = try dumps("nas/db")
        #expect(local.count == 2 && nas.count == 3)
        #expect(Array(nas.suffix(2)) == local)
        for dump in local {
            #expect(FileManager.default.contentsEqual(atPath: "\(directory)/backups/db/\(dump)", andPath: "\(directory)/nas/db/\(dump)"))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(directory)/nas/db").allSatisfy { !$0.hasSuffix(".partial") })

        // Restore the newest dump into an empty database: same tables, same rows.
        try server.ensureDatabase("restored", owner: "app")
        let newest = "\(directory)/backups/db/\(try #require(local.last))"
        let restore = try DeploymentTools.status(script, ["restore", newest, "host=127.0.0.1 port=\(server.port) dbname=restored user=app"],
                                                 environment: environment.merging(app) { first, _ in first })
        #expect(restore.0 == 0, "\(restore.1)")
        let contents = """
            SELECT string_agg(format('%s=%s', c.relname, (xpath('/row/n/text()',
                   query_to_xml(format('SELECT count(*) AS n FROM %I', c.relname), false, true, '')))[1]::text), ',' ORDER BY c.relname)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'
            """
        let original = try psql("stam", ["-c", contents])
        #expect(original.contains("backup_probe=5000"))
        #expect(try psql("restored", ["-c", contents]) == original)
        let checksum = "SELECT md5(string_agg(id || ':' || body, ',' ORDER BY id)) FROM backup_probe"
        #expect(try psql("restored", ["-c", checksum]) == psql("stam", ["-c", checksum]))
        // Into a database that is not empty, the restore fails as a whole and changes nothing.
        let again = try DeploymentTools.status(script, ["restore", newest, "host=127.0.0.1 port=\(server.port) dbname=restored user=app"],
                                               environment: environment.merging(app) { first, _ in first })
        #expect(again.0 != 0)
        #expect(try psql("restored", ["-c", contents]) == original)

        // An unmounted NAS (no marker) fails the job instead of filling the local directory.
        try FileManager.default.removeItem(atPath: "\(directory)/nas/.stam-nas")
        let refused = try backup(["database"])
        #expect(refused.0 != 0)
        #expect(refused.1.contains("NAS is not mounted"))
    }
}
