import Database
import Foundation
import DevStack
import Logging
import Messaging
import MigrationSupport
import PostgresNIO

/// A private PostgreSQL 15 and RabbitMQ for one benchmark run, like the tests' (`LocalStack` classes under
/// /tmp, stopped by PID at the end), with the database migrated by the committed migrations.
final class BenchStack: Sendable {
    let directory: String
    let postgres: PostgresServer
    let rabbit: RabbitMQServer
    let database: DatabaseConfiguration
    let amqp: AMQPConfiguration

    init(migrations: String, logger: Logger) async throws {
        directory = "/tmp/stam-bench/\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        postgres = PostgresServer(directory: "\(directory)/pg", port: try FreePort.find())
        let password = "bench-\(UUID().uuidString.prefix(8))"
        rabbit = try RabbitMQServer(directory: "\(directory)/rmq", port: try FreePort.find(), password: password)
        database = DatabaseConfiguration(host: "127.0.0.1", port: postgres.port, username: "app", database: "stam", password: password)
        amqp = AMQPConfiguration(host: "127.0.0.1", port: rabbit.port, virtualHost: rabbit.virtualHost,
                                 username: rabbit.username, password: rabbit.password, heartbeatSeconds: 30)
        do {
            try await postgres.start()
            try postgres.ensureDatabase("stam", owner: "app", password: password)
            try await rabbit.start()
            _ = try await MigrationRunner(configuration: database, logger: logger).run(directory: try MigrationDirectory(path: migrations))
        } catch {
            stop()
            throw error
        }
    }

    func stop() {
        rabbit.stop()
        postgres.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    func connect(_ logger: Logger) async throws -> PostgresConnection {
        try await PostgresConnection.connect(configuration: database.connectionConfiguration, id: 99, logger: logger)
    }
}
