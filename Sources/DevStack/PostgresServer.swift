import Foundation

/// A private PostgreSQL 15 for the local stack and the tests: `initdb` under a directory of ours, started on
/// a free loopback port, stopped by PID. Runs as the `postgres` system user when we are root (PostgreSQL
/// refuses to run as root). Host connections need a password (scram-sha-256) like production does; only
/// the Unix socket in the data directory's parent trusts local users, for setup.
public final class PostgresServer: @unchecked Sendable {
    public static let binDirectory = "/usr/lib/postgresql/15/bin"
    static let systemUser = "postgres"

    public let directory: String
    public let port: Int
    public private(set) var process: LocalProcess?

    public var dataDirectory: String { "\(directory)/data" }
    public var socketDirectory: String { directory }
    public var logFile: String { "\(directory)/postgres.log" }
    /// More `-c name=value` settings (`ssl=on` and its files, for a test of TLS).
    public let settings: [String: String]
    /// The host lines of pg_hba.conf (`hostssl all all 127.0.0.1/32 scram-sha-256`), written at every start;
    /// nil keeps initdb's (password over TCP, trust on the socket).
    public let hostRules: [String]?

    /// - Parameter directory: created if missing; must be reachable by the postgres user when we are root.
    public init(directory: String, port: Int, settings: [String: String] = [:], hostRules: [String]? = nil) {
        self.directory = directory
        self.port = port
        self.settings = settings
        self.hostRules = hostRules
    }

    /// Initialises the cluster on first use, then starts it and waits until it accepts connections.
    public func start() async throws {
        let manager = FileManager.default
        try prepareDirectory()
        if !manager.fileExists(atPath: "\(dataDirectory)/PG_VERSION") {
            try LocalProcess.run("\(Self.binDirectory)/initdb", [
                "-D", dataDirectory, "-U", "postgres", "--encoding=UTF8", "--locale=C",
                "--auth-local=trust", "--auth-host=scram-sha-256",
            ], user: Self.systemUser)
        }
        // A previous run that was killed leaves postmaster.pid; PostgreSQL removes a stale one itself, but a
        // live one means that server is still ours from an earlier run: stop it first.
        Self.stopStale(dataDirectory: dataDirectory)
        if let hostRules {
            let rules = (["local all all trust"] + hostRules).joined(separator: "\n") + "\n"
            try rules.write(toFile: "\(dataDirectory)/pg_hba.conf", atomically: true, encoding: .utf8)
        }
        process = try LocalProcess(
            name: "postgres",
            executable: "\(Self.binDirectory)/postgres",
            arguments: [
                "-D", dataDirectory, "-p", String(port), "-k", socketDirectory,
                "-c", "listen_addresses=127.0.0.1", "-c", "fsync=on", "-c", "max_connections=200",
                "-c", "shared_buffers=64MB", "-c", "logging_collector=off",
            ] + settings.sorted { $0.key < $1.key }.flatMap { ["-c", "\($0.key)=\($0.value)"] },
            user: Self.systemUser, logFile: logFile)
        try await waitUntilReady()
    }

    /// Makes this server, not yet initialised, a streaming hot standby of `primary` (pg_basebackup over the
    /// primary's Unix socket, `-R` writes standby.signal and primary_conninfo); `start()` then runs it.
    public func initializeAsStandby(of primary: PostgresServer) throws {
        try prepareDirectory()
        try LocalProcess.run("\(Self.binDirectory)/pg_basebackup", [
            "-h", primary.socketDirectory, "-p", String(primary.port), "-U", "postgres",
            "-D", dataDirectory, "-R", "-X", "stream", "--checkpoint=fast",
        ], user: Self.systemUser)
    }

    private func prepareDirectory() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if getuid() == 0 {
            try LocalProcess.run("/bin/chown", [Self.systemUser + ":" + Self.systemUser, directory])
            try LocalProcess.run("/bin/chmod", ["700", directory])
            // The postgres user must be able to walk down to the directory.
            do {
                try LocalProcess.run("/usr/bin/test", ["-w", directory], user: Self.systemUser)
            } catch {
                throw LocalProcess.LaunchError(description: "the postgres user cannot reach \(directory); use a directory under /tmp or make its parents world-searchable (chmod o+x)")
            }
        }
    }

    private func waitUntilReady() async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            guard process?.isRunning == true else {
                throw LocalProcess.LaunchError(description: "postgres exited during start-up; see \(logFile):\n\(tail(logFile))")
            }
            if (try? LocalProcess.run("\(Self.binDirectory)/pg_isready", ["-h", "127.0.0.1", "-p", String(port), "-q"])) != nil {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw LocalProcess.LaunchError(description: "postgres did not accept connections within 60 s; see \(logFile)")
    }

    /// Runs SQL as the superuser over the Unix socket.
    @discardableResult
    public func superuserSQL(_ sql: String, database: String = "postgres") throws -> String {
        try LocalProcess.run("/usr/bin/psql", [
            "-h", socketDirectory, "-p", String(port), "-U", "postgres", "-d", database,
            "-v", "ON_ERROR_STOP=1", "-X", "-q", "-A", "-t", "-c", sql,
        ])
    }

    /// Creates (or updates the password of) a login role and a database it owns.
    public func ensureDatabase(_ database: String, owner: String, password: String) throws {
        try ensureRole(owner, password: password)
        try ensureDatabase(database, owner: owner)
    }

    /// Creates a login role, or sets its password when it exists.
    public func ensureRole(_ owner: String, password: String) throws {
        let quotedPassword = password.replacingOccurrences(of: "'", with: "''")
        try superuserSQL("""
            DO $$ BEGIN
              IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '\(owner)') THEN
                CREATE ROLE \(owner) LOGIN PASSWORD '\(quotedPassword)';
              ELSE
                ALTER ROLE \(owner) PASSWORD '\(quotedPassword)';
              END IF;
            END $$;
            """)
    }

    /// Creates a database owned by an existing role unless it exists.
    public func ensureDatabase(_ database: String, owner: String) throws {
        let exists = try superuserSQL("SELECT 1 FROM pg_database WHERE datname = '\(database)'")
        if exists.trimmingCharacters(in: .whitespacesAndNewlines) != "1" {
            try superuserSQL("CREATE DATABASE \(database) OWNER \(owner)")
        }
    }

    /// Fast shutdown (SIGINT: abort transactions, checkpoint, exit), then SIGKILL after the timeout.
    public func stop() {
        process?.stop(signal: SIGINT, timeout: .seconds(30))
        process = nil
    }

    /// Kills the postmaster and every process it started at once, as a power cut or an OOM kill of the container does:
    /// what the WAL writer had not flushed is gone; `start()` runs crash recovery. (Not a process-group kill: each
    /// backend calls setsid. The postmaster is stopped first so that it starts nothing meanwhile.)
    public func crash() {
        guard let process else { return }
        kill(process.pid, SIGSTOP)
        for child in Self.children(of: process.pid) { kill(child, SIGKILL) }
        process.stop(signal: SIGKILL)
        self.process = nil
    }

    static func children(of parent: pid_t) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let end = stat.lastIndex(of: ")") else { return nil }
            // After "pid (comm)": state, then the parent's pid.
            let fields = stat[stat.index(after: end)...].split(separator: " ")
            return fields.count > 1 && pid_t(fields[1]) == parent ? pid : nil
        }
    }

    /// Stops a server left running on this data directory by an earlier, killed run.
    public static func stopStale(dataDirectory: String) {
        guard let text = try? String(contentsOfFile: "\(dataDirectory)/postmaster.pid", encoding: .utf8),
              let pid = text.split(separator: "\n").first.flatMap({ Int32($0) }), pid > 0, kill(pid, 0) == 0 else { return }
        kill(pid, SIGINT)
        for _ in 0..<300 where kill(pid, 0) == 0 { usleep(100_000) }
        if kill(pid, 0) == 0 { kill(pid, SIGKILL) }
    }

    private func tail(_ path: String) -> String {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(15).joined(separator: "\n")
    }
}
