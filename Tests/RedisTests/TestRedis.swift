import Foundation
import DevStack
import Logging
import Redis
import Testing

/// The one way Redis tests get a server: a private redis-server started for the suite by the `.redis`
/// trait (never an already running one). Tests share it and keep apart by key prefix (`namespace()`).
final class TestRedis: Sendable {
    @TaskLocal static var current: TestRedis?

    let server: RedisServer
    let runDirectory: String

    private init(server: RedisServer, runDirectory: String) {
        self.server = server
        self.runDirectory = runDirectory
    }

    static func start() async throws -> TestRedis {
        let runDirectory = try RunDirectory.create("redis").path
        let server = RedisServer(directory: "\(runDirectory)/redis", port: try FreePort.find(),
                                 password: "redis-\(UUID().uuidString.prefix(8))")
        try await server.start()
        try server.recordProcess(in: "\(runDirectory)/processes")
        return TestRedis(server: server, runDirectory: runDirectory)
    }

    func stop() {
        server.stop()
        try? FileManager.default.removeItem(atPath: runDirectory)
    }

    /// Kills the server with `signal` and starts it again on the same port and data.
    func restart(signal: Int32) async throws {
        server.stopServer(signal: signal)
        try await server.startServer()
        try server.recordProcess(in: "\(runDirectory)/processes")
    }

    /// Short timeouts and backoff, so outage tests finish quickly.
    func configuration(password: String? = nil) -> RedisConfiguration {
        RedisConfiguration(host: "127.0.0.1", port: server.port, password: password ?? server.password,
                           connectTimeout: .seconds(1), commandTimeout: .milliseconds(500),
                           initialReconnectDelay: .milliseconds(20), maximumReconnectDelay: .milliseconds(200))
    }

    func client(_ name: String = "redis-test", password: String? = nil) -> RedisClient {
        RedisClient(configuration: configuration(password: password), logger: Logger(label: "test.\(name)"), name: name)
    }

    /// A key prefix no other test uses.
    static func namespace() -> String { "t\(UUID().uuidString.prefix(8).lowercased()):" }

}

/// `@Suite(.redis)`: starts a private Redis 7 before the suite's tests and stops it after.
struct RedisTrait: SuiteTrait, TestScoping {
    var isRecursive: Bool { false }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        let redis = try await TestRedis.start()
        defer { redis.stop() }
        try await TestRedis.$current.withValue(redis) {
            try await function()
        }
    }
}

extension Trait where Self == RedisTrait {
    static var redis: Self { RedisTrait() }
}
