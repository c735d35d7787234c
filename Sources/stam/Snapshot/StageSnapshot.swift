import DevStack
import Foundation
import Generated
import StamCore

/// `stam snapshot`: production's data for STAGE, with nothing personal left.
///
/// 1. A custom-format dump of production (`pg_dump -Fc`), or a dump the backups already made.
/// 2. Restored into a private PostgreSQL 15 of this run (under /tmp/stam-snapshots; the dumps in a directory only
///    root reads), so unanonymised rows never reach the stage host's database.
/// 3. Anonymised there (`SnapshotAnonymisation`) in one transaction, then checked: no original value of a
///    personal column is left in any personal column, and what should be null is. A failed check stops the run.
/// 4. Dumped again and restored into the stage database, which must be empty (create it as in
///    docs/DEPLOYMENT.md section 7), and/or written to a file for a stage host elsewhere.
///
/// The private server and its directory are removed at the end, failed or not; a run killed before that is
/// reaped by the next one (`RunDirectory`).
struct StageSnapshot {
    enum Source {
        case database(url: String, passwordFile: String?)
        case dump(path: String)
    }

    struct Target {
        var url: String
        var passwordFile: String?
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    struct Report {
        var columns: Int
        var tables: Int
        var restoredInto: String?
        var dumpFile: String?
    }

    static let workBase = "/tmp/stam-snapshots"
    static let database = "stam"
    static let tools = PostgresServer.binDirectory

    var source: Source
    var key: Data
    var target: Target?
    var dumpFile: String?
    var columns: [PersonalColumn] = StamSchema.personalColumns

    func run() async throws -> Report {
        guard key.count >= 32 else { throw Failure(description: "the anonymisation key must be at least 32 bytes, found \(key.count)") }
        if let target { try requireEmpty(target) }
        let run = try RunDirectory.create("snapshot", under: Self.workBase)
        // Dumps and the script (it holds the key) in a directory only root reads; the server's data directory is
        // the postgres user's own (mode 0700).
        let files = "\(run.path)/files"
        try FileManager.default.createDirectory(atPath: files, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        let server = PostgresServer(directory: "\(run.path)/pg", port: try FreePort.find())
        defer {
            server.stop()
            run.remove()
        }
        let productionDump: String
        switch source {
        case .dump(let path):
            productionDump = path
        case .database(let url, let passwordFile):
            productionDump = "\(files)/production.dump"
            try tool("pg_dump", ["-Fc", "--no-owner", "--no-privileges", "-f", productionDump, "-d", url], passwordFile: passwordFile)
        }
        try await server.start()
        try server.superuserSQL("CREATE DATABASE \(Self.database)")
        let local = ["-h", server.socketDirectory, "-p", String(server.port), "-U", "postgres", "-d", Self.database]
        try tool("pg_restore", ["--no-owner", "--no-privileges", "--exit-on-error"] + local + [productionDump])

        let anonymisation = SnapshotAnonymisation(columns: columns)
        let script = "\(files)/anonymise.sql"
        try (anonymisation.preparation(keyHex: key.map { String(format: "%02x", $0) }.joined()) + anonymisation.anonymisation())
            .write(toFile: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: script)
        try tool("psql", local + ["-v", "ON_ERROR_STOP=1", "-X", "-q", "--single-transaction", "-f", script])
        let left = try server.superuserSQL(anonymisation.verification(), database: Self.database)
            .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard left.isEmpty else {
            throw Failure(description: "personal data is left after anonymisation in \(left.joined(separator: ", ")); nothing was written to stage")
        }
        try server.superuserSQL(anonymisation.cleanup(), database: Self.database)

        let stageDump = dumpFile ?? "\(files)/stage.dump"
        try tool("pg_dump", ["-Fc", "--no-owner", "--no-privileges", "-f", stageDump] + local)
        if let target {
            try tool("pg_restore", ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", "-d", target.url, stageDump],
                     passwordFile: target.passwordFile)
        }
        return Report(columns: columns.count, tables: anonymisation.tables.count, restoredInto: target.map { Self.redacted($0.url) }, dumpFile: dumpFile)
    }

    /// The stage database must hold no table: a restore over an older copy would mix the two.
    func requireEmpty(_ target: Target) throws {
        let output = try tool("psql", ["-X", "-A", "-t", "-d", target.url, "-c", "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"],
                              passwordFile: target.passwordFile)
        guard output.trimmingCharacters(in: .whitespacesAndNewlines) == "0" else {
            throw Failure(description: "the stage database \(Self.redacted(target.url)) is not empty; drop and create it as in docs/DEPLOYMENT.md section 7, then run the snapshot again")
        }
    }

    /// A PostgreSQL tool with the password in its environment, never on its command line.
    @discardableResult
    func tool(_ name: String, _ arguments: [String], passwordFile: String? = nil) throws -> String {
        var environment = ProcessInfo.processInfo.environment
        if let passwordFile {
            environment["PGPASSWORD"] = try String(contentsOfFile: passwordFile, encoding: .utf8).trimmingCharacters(in: .newlines)
        }
        let (status, output) = try LocalProcess.status("\(Self.tools)/\(name)", arguments, environment: environment)
        guard status == 0 else {
            throw Failure(description: "\(name) failed (exit \(status)): \(output.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return output
    }

    /// The URL without its password, for messages.
    static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? url
    }
}
