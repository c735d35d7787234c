import Foundation
import DevStack
import Messaging
import Testing

/// A private RabbitMQ node started for a suite by the `.rabbitmq` trait; each test uses its own queues.
public final class TestRabbitMQ: Sendable {
    @TaskLocal public static var current: TestRabbitMQ?

    public let server: RabbitMQServer
    public let runDirectory: String

    private init(server: RabbitMQServer, runDirectory: String) {
        self.server = server
        self.runDirectory = runDirectory
    }

    public static func start() async throws -> TestRabbitMQ {
        let runDirectory = try RunDirectory.create("rmq").path
        let server = try RabbitMQServer(directory: "\(runDirectory)/rmq", port: try FreePort.find(),
                                        password: "rmq-\(UUID().uuidString.prefix(8))")
        try await server.start()
        try server.recordProcesses(in: "\(runDirectory)/processes")
        return TestRabbitMQ(server: server, runDirectory: runDirectory)
    }

    public func stop() {
        server.stop()
        try? FileManager.default.removeItem(atPath: runDirectory)
    }

    public var configuration: AMQPConfiguration {
        AMQPConfiguration(host: "127.0.0.1", port: server.port, virtualHost: server.virtualHost,
                          username: server.username, password: server.password, heartbeatSeconds: 5)
    }
}

/// `@Suite(.rabbitmq)`: a private RabbitMQ for the suite.
public struct RabbitMQTrait: SuiteTrait, TestScoping {
    public init() {}
    public var isRecursive: Bool { false }

    public func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        let rabbitmq = try await TestRabbitMQ.start()
        defer { rabbitmq.stop() }
        try await TestRabbitMQ.$current.withValue(rabbitmq) {
            try await function()
        }
    }
}

extension Trait where Self == RabbitMQTrait {
    public static var rabbitmq: Self { RabbitMQTrait() }
}
