import Foundation
import DevStack
import Messaging
import Redis
import Testing

/// The servers a worker needs, started privately for the suite by the `.workerStack` trait: PostgreSQL 15,
/// Redis 7 and RabbitMQ 3 (the same LocalStack servers the other suites start), under /tmp/stam-tests.
final class WorkerStack: Sendable {
    @TaskLocal static var current: WorkerStack?

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
        let runDirectory = try RunDirectory.create("worker").path
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
