import Database
import Foundation
import DevStack
import Logging
import MigrationSupport
import PostgresNIO

/// A private PostgreSQL 15, Redis and RabbitMQ for one benchmark run (the `LocalStack` servers the tests
/// use, under /tmp/stam-bench, stopped by PID at the end), the database migrated by the committed
/// migrations, and the secret files a `stam worker` child reads.
///
/// PostgreSQL runs with `track_commit_timestamp = on`: `pg_xact_commit_timestamp(xmin)` of an outbox row is
/// then the instant its transaction committed, recorded by the server itself. `created_at` would not do: it
/// is `now()`, the transaction's start. `track_wal_io_timing` lets the report say what the WAL flush after
/// that instant costs.
final class WorkerBenchStack: Sendable {
    static let baseDirectory = "/tmp/stam-bench"

    let directory: String
    let postgres: PostgresServer
    let redis: RedisServer
    let rabbit: RabbitMQServer
    let database: DatabaseConfiguration
    let secretsDirectory: String
    let postgresPassword: String
    /// `pid starttime` of every process started, so a later run can kill those of a run that died.
    let registry: String

    /// - Parameter diagnose: PostgreSQL logs statements over 30 ms and lock waits over 20 ms.
    init(migrations: String, diagnose: Bool, logger: Logger) async throws {
        directory = try RunDirectory.create("worker", under: Self.baseDirectory).path
        registry = "\(directory)/processes"
        secretsDirectory = "\(directory)/secrets"
        postgresPassword = "bench-\(UUID().uuidString.prefix(8))"
        let redisPassword = "redis-\(UUID().uuidString.prefix(8))"
        postgres = PostgresServer(directory: "\(directory)/pg", port: try FreePort.find())
        redis = RedisServer(directory: "\(directory)/redis", port: try FreePort.find(), password: redisPassword)
        rabbit = try RabbitMQServer(directory: "\(directory)/rmq", port: try FreePort.find(), password: "rmq-\(UUID().uuidString.prefix(8))")
        database = DatabaseConfiguration(host: "127.0.0.1", port: postgres.port, username: "app", database: "stam", password: postgresPassword)
        do {
            try await postgres.start()
            try postgres.superuserSQL("ALTER SYSTEM SET track_commit_timestamp = on")
            try postgres.superuserSQL("ALTER SYSTEM SET track_wal_io_timing = on")
            if diagnose {
                // What found the NOTIFY lock convoy: slow statements and lock waits in postgres.log.
                try postgres.superuserSQL("ALTER SYSTEM SET log_min_duration_statement = 30")
                try postgres.superuserSQL("ALTER SYSTEM SET log_lock_waits = on")
                try postgres.superuserSQL("ALTER SYSTEM SET deadlock_timeout = '20ms'")
            }
            // track_commit_timestamp needs a restart.
            postgres.stop()
            try await postgres.start()
            try postgres.ensureDatabase("stam", owner: "app", password: postgresPassword)
            try await redis.start()
            try redis.recordProcess(in: registry)
            try await rabbit.start()
            try rabbit.recordProcesses(in: registry)
            _ = try await MigrationRunner(configuration: database, logger: logger).run(directory: try MigrationDirectory(path: migrations))
            try FileManager.default.createDirectory(atPath: secretsDirectory, withIntermediateDirectories: true)
            let key = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
            for (file, content) in [("postgres_password", postgresPassword), ("redis_password", redisPassword),
                                    ("rabbitmq_password", rabbit.password), ("encryption_key", key)] {
                try content.write(toFile: "\(secretsDirectory)/\(file)", atomically: true, encoding: .utf8)
                chmod("\(secretsDirectory)/\(file)", 0o600)
            }
        } catch {
            stop()
            throw error
        }
    }

    /// Redis, RabbitMQ and epmd (PostgreSQL, a process per connection, is counted from its postmaster).
    var pids: [pid_t] {
        [redis.process?.pid, rabbit.process?.pid, rabbit.epmd?.pid].compactMap { $0 }
    }

    /// The environment a `stam` child needs to reach these servers.
    var childEnvironment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = "postgresql://app@127.0.0.1:\(postgres.port)/stam"
        environment["REDIS_URL"] = redis.url
        environment["RABBITMQ_URL"] = rabbit.url
        environment["STAM_SECRETS_DIR"] = secretsDirectory
        return environment
    }

    /// Starts a child process and records it in the registry.
    func launch(name: String, executable: String, arguments: [String], environment: [String: String]) throws -> LocalProcess {
        let process = try LocalProcess(name: name, executable: executable, arguments: arguments, environment: environment,
                                       logFile: "\(directory)/\(name.replacingOccurrences(of: " ", with: "-")).log")
        if let handle = FileHandle(forWritingAtPath: registry) {
            handle.seekToEndOfFile()
            handle.write(Data(process.registryLine.utf8))
            try? handle.close()
        } else {
            try process.registryLine.write(toFile: registry, atomically: true, encoding: .utf8)
        }
        return process
    }

    func stop() {
        rabbit.stop()
        redis.stop()
        postgres.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    func connect(_ logger: Logger) async throws -> PostgresConnection {
        try await PostgresConnection.connect(configuration: database.connectionConfiguration, id: 99, logger: logger)
    }
}
