import Foundation

/// A private Redis 7 for the local stack and the tests: a configuration file of ours plus overrides on
/// the command line (port and bind on loopback, data directory, password), run as the `redis` system user
/// when we are root, stopped by PID.
public final class RedisServer: @unchecked Sendable {
    public let directory: String
    public let port: Int
    public let password: String
    public private(set) var process: LocalProcess?

    public var logFile: String { "\(directory)/redis.log" }

    public init(directory: String, port: Int, password: String) {
        self.directory = directory
        self.port = port
        self.password = password
    }

    /// - Parameter configuration: redis.conf text; the port, bind address, data directory and password
    ///   given on the command line win over it.
    public func start(configuration: String = "") async throws {
        try FileManager.default.createDirectory(atPath: "\(directory)/data", withIntermediateDirectories: true)
        try configuration.write(toFile: "\(directory)/redis.conf", atomically: true, encoding: .utf8)
        if getuid() == 0 { try LocalProcess.run("/bin/chown", ["-R", "redis:redis", directory]) }
        process = try LocalProcess(
            name: "redis", executable: "/usr/bin/redis-server",
            arguments: ["\(directory)/redis.conf", "--port", String(port), "--bind", "127.0.0.1", "--dir", "\(directory)/data",
                        "--daemonize", "no", "--logfile", "", "--requirepass", password],
            user: "redis", logFile: logFile)
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            guard process?.isRunning == true else {
                throw LocalProcess.LaunchError(description: "redis exited during start-up; see \(logFile)")
            }
            if (try? cli(["PING"]))?.contains("PONG") == true { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw LocalProcess.LaunchError(description: "redis did not answer within 30 s; see \(logFile)")
    }

    /// Runs redis-cli against this server, authenticated.
    @discardableResult
    public func cli(_ arguments: [String], authenticated: Bool = true) throws -> String {
        var environment = ["PATH": "/usr/bin:/bin"]
        if authenticated { environment["REDISCLI_AUTH"] = password }
        return try LocalProcess.run("/usr/bin/redis-cli", ["-h", "127.0.0.1", "-p", String(port)] + arguments, environment: environment)
    }

    public func stop() {
        process?.stop(signal: SIGTERM, timeout: .seconds(30))
        process = nil
    }
}
