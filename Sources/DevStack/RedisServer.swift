import Foundation

/// A private Redis 7 for the local stack and the tests: its own directory, config file and loopback port,
/// run as the `redis` system user when we are root, stopped by PID.
///
/// Persistence is AOF + RDB as the deployment asks. The AOF is fsynced on every write (`appendfsync
/// always`): lock and fencing-counter writes are a few per second, and a restart that forgot the last second
/// could hand a panel lease out twice or move a fencing counter backwards (see docs/WORKER.md, panel leases).
public final class RedisServer: @unchecked Sendable {
    static let systemUser = "redis"
    public static let executable = "/usr/bin/redis-server"

    public let directory: String
    public let port: Int
    public let password: String
    public private(set) var process: LocalProcess?

    public var logFile: String { "\(directory)/redis.log" }
    public var configFile: String { "\(directory)/redis.conf" }
    public var url: String { "redis://127.0.0.1:\(port)/0" }

    public init(directory: String, port: Int, password: String) {
        self.directory = directory
        self.port = port
        self.password = password
    }

    /// Writes the config (the password lives there, not on the command line where `ps` shows it) and
    /// starts the server.
    /// - Parameter configuration: a redis.conf to run (the generated one, under test) instead of the
    ///   persistence settings here; the address, port, directory, log and password lines here still win.
    public func start(configuration: String? = nil) async throws {
        let manager = FileManager.default
        try manager.createDirectory(atPath: "\(directory)/data", withIntermediateDirectories: true)
        let persistence = """
            appendonly yes
            appendfsync always
            save 900 1 300 10 60 10000
            dbfilename dump.rdb
            """
        try """
            \(configuration ?? persistence)
            bind 127.0.0.1
            port \(port)
            protected-mode yes
            daemonize no
            dir \(directory)/data
            logfile \(logFile)
            loglevel notice
            requirepass \(password.replacingOccurrences(of: "\n", with: ""))

            """.write(toFile: configFile, atomically: true, encoding: .utf8)
        chmod(configFile, 0o600)
        if getuid() == 0 {
            try LocalProcess.run("/bin/chown", ["-R", "\(Self.systemUser):\(Self.systemUser)", directory])
        }
        try await startServer()
    }

    /// Starts (or restarts, after `stopServer`) the server on the existing data.
    public func startServer() async throws {
        process = try LocalProcess(name: "redis", executable: Self.executable, arguments: [configFile],
                                   user: Self.systemUser, logFile: "\(directory)/redis.out")
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            guard process?.isRunning == true else {
                throw LocalProcess.LaunchError(description: "redis-server exited during start-up; see \(logFile) and \(directory)/redis.out")
            }
            if RabbitMQServer.acceptsConnections(port: port) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        let log = (try? String(contentsOfFile: logFile, encoding: .utf8)).map { $0.split(separator: "\n").suffix(10).joined(separator: "\n") } ?? "(no log)"
        throw LocalProcess.LaunchError(description: "redis-server did not open port \(port) within 30 s; \(logFile):\n\(log)")
    }

    /// Stops the server only (SIGKILL for crash tests); `startServer()` brings it back with its data.
    public func stopServer(signal: Int32 = SIGTERM) {
        process?.stop(signal: signal, timeout: .seconds(30))
        process = nil
    }

    /// Appends the server's PID to a registry (see `LocalProcess.killRegistered`).
    public func recordProcess(in file: String) throws {
        guard let line = process?.registryLine else { return }
        if let handle = FileHandle(forWritingAtPath: file) {
            handle.seekToEndOfFile()
            handle.write(Data(line.utf8))
            try handle.close()
        } else {
            try line.write(toFile: file, atomically: true, encoding: .utf8)
        }
    }

    /// Runs redis-cli against this server, authenticated (the password goes through the environment).
    @discardableResult
    public func cli(_ arguments: [String], authenticated: Bool = true) throws -> String {
        var environment = ["PATH": "/usr/bin:/bin"]
        if authenticated { environment["REDISCLI_AUTH"] = password }
        return try LocalProcess.run("/usr/bin/redis-cli", ["-h", "127.0.0.1", "-p", String(port)] + arguments, environment: environment)
    }

    public func stop() {
        stopServer()
    }
}
