import Foundation
import LocalStack
import Messaging
import Redis
import Testing

/// The servers a worker needs, started privately for the suite by the `.workerStack` trait: PostgreSQL 15,
/// Redis 7 and RabbitMQ 3 (the same LocalStack servers the other suites start), under /tmp/stam-tests.
final class WorkerStack: Sendable {
    @TaskLocal static var current: WorkerStack?

    static let baseDirectory = "/tmp/stam-tests"

    let postgres: PostgresServer
    let redis: RedisServer
    let rabbitmq: RabbitMQServer
    let runDirectory: String
    let postgresPassword: String
    let redisPassword: String

    private init(postgres: PostgresServer, redis: RedisServer, rabbitmq: RabbitMQServer, runDirectory: String,
                 postgresPassword: String, redisPassword: String) {
        self.postgres = postgres
        self.redis = redis
        self.rabbitmq = rabbitmq
        self.runDirectory = runDirectory
        self.postgresPassword = postgresPassword
        self.redisPassword = redisPassword
    }

    static func start() async throws -> WorkerStack {
        reapServersOfDeadRuns()
        let runDirectory = "\(baseDirectory)/\(getpid())-worker-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: runDirectory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        try String(getpid()).write(toFile: "\(runDirectory)/owner.pid", atomically: true, encoding: .utf8)
        let postgresPassword = "pg-\(UUID().uuidString.prefix(8))"
        let redisPassword = "redis-\(UUID().uuidString.prefix(8))"
        let postgres = PostgresServer(directory: "\(runDirectory)/pg", port: try FreePort.find())
        try await postgres.start()
        try postgres.ensureRole("app", password: postgresPassword)
        let redis = RedisServer(directory: "\(runDirectory)/redis", port: try FreePort.find(), password: redisPassword)
        try await redis.start()
        try redis.recordProcess(in: "\(runDirectory)/processes")
        let rabbitmq = try RabbitMQServer(directory: "\(runDirectory)/rmq", port: try FreePort.find(),
                                          password: "rmq-\(UUID().uuidString.prefix(8))")
        try await rabbitmq.start()
        try rabbitmq.recordProcesses(in: "\(runDirectory)/processes")
        return WorkerStack(postgres: postgres, redis: redis, rabbitmq: rabbitmq, runDirectory: runDirectory,
                           postgresPassword: postgresPassword, redisPassword: redisPassword)
    }

    func stop() {
        rabbitmq.stop()
        redis.stop()
        postgres.stop()
        try? FileManager.default.removeItem(atPath: runDirectory)
    }

    var redisConfiguration: RedisConfiguration {
        RedisConfiguration(host: "127.0.0.1", port: redis.port, password: redisPassword,
                           connectTimeout: .seconds(1), commandTimeout: .seconds(1),
                           initialReconnectDelay: .milliseconds(20), maximumReconnectDelay: .milliseconds(200))
    }

    var amqpConfiguration: AMQPConfiguration {
        AMQPConfiguration(host: "127.0.0.1", port: rabbitmq.port, virtualHost: rabbitmq.virtualHost,
                          username: rabbitmq.username, password: rabbitmq.password, heartbeatSeconds: 5)
    }

    /// A run killed by a crash or a timeout leaves its servers running: stop those of dead runs.
    static func reapServersOfDeadRuns() {
        guard let runs = try? FileManager.default.contentsOfDirectory(atPath: baseDirectory) else { return }
        for run in runs where run.contains("-worker-") {
            let directory = "\(baseDirectory)/\(run)"
            guard let owner = try? String(contentsOfFile: "\(directory)/owner.pid", encoding: .utf8),
                  let pid = Int32(owner), kill(pid, 0) != 0 else { continue }
            PostgresServer.stopStale(dataDirectory: "\(directory)/pg/data")
            LocalProcess.killRegistered(in: "\(directory)/processes")
            try? FileManager.default.removeItem(atPath: directory)
        }
    }
}

/// `@Suite(.workerStack)`: PostgreSQL, Redis and RabbitMQ for the suite's tests.
struct WorkerStackTrait: SuiteTrait, TestScoping {
    var isRecursive: Bool { false }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        let stack = try await WorkerStack.start()
        defer { stack.stop() }
        try await WorkerStack.$current.withValue(stack) {
            try await function()
        }
    }
}

extension Trait where Self == WorkerStackTrait {
    static var workerStack: Self { WorkerStackTrait() }
}

/// Waits until `condition` holds, checking every 50 ms; a generous liveness bound, not a timing assertion.
func eventually(_ what: String, within bound: Duration = .seconds(30), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + bound
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    Issue.record("not reached within \(bound): \(what)")
    throw WorkerTestFailure(what: "not reached: \(what)")
}

struct WorkerTestFailure: Error, CustomStringConvertible {
    var what: String
    var description: String { what }
}
