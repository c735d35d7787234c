import Crypto
import Database
import Foundation
import Generated
import Leases
import DevStack
import Logging
import MigrationSupport
import NIOCore
import Persistence
import PostgresNIO
import Redis
import Satel
import SatelSimulator
import ServiceLifecycle
import StamCore
import TestSupport
import Testing
import Worker

/// One test's world: a fresh migrated database with a site and `panels` panels, a simulator with one
/// module per panel, the secret files a `stam worker` child reads, and helpers to query and to run workers.
struct WorkerFixture: Sendable {
    static let userCode = "1234"

    let stack: WorkerStack
    let url: String
    let database: DatabaseConfiguration
    let secretsDirectory: String
    let secrets: SecretBox
    let simulator: SimulatorServer
    let panelIDs: [UUID]
    let siteID: UUID
    let logger: Logger

    static func make(panels count: Int, userCode: String = WorkerFixture.userCode) async throws -> WorkerFixture {
        let stack = try #require(WorkerStack.current)
        var logger = Logger(label: "test.worker")
        logger.logLevel = ProcessInfo.processInfo.environment["STAM_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        let name = "w_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
        let secretsDirectory = "\(stack.runDirectory)/secrets-\(name)"
        try FileManager.default.createDirectory(atPath: secretsDirectory, withIntermediateDirectories: true)
        let key = SymmetricKey(size: .bits256)
        let keyText = key.withUnsafeBytes { Data($0).base64EncodedString() }
        for (file, content) in [("postgres_password", stack.postgresPassword), ("redis_password", stack.redisPassword),
                                ("rabbitmq_password", stack.rabbitmq.password), ("encryption_key", keyText)] {
            try content.write(toFile: "\(secretsDirectory)/\(file)", atomically: true, encoding: .utf8)
        }
        // A copy of the suite's migrated template (`PostgresServer.createMigratedDatabase`).
        let (url, passwordFile) = try await stack.postgres.createMigratedDatabase(
            name, owner: "app", passwordFile: "\(secretsDirectory)/postgres_password", logger: logger)
        let database = try DatabaseConfiguration(url: url, passwordFile: passwordFile)
        // Flush Redis: leases and live state of an earlier test must not leak into this one.
        let redis = RedisClient(configuration: stack.redisConfiguration, logger: logger)
        try await redis.flushAll()
        await redis.close()

        let simulator = SimulatorServer(configuration: SimulatorConfiguration(
            host: "127.0.0.1", port: 0, panelCount: count, idleTimeout: .seconds(3)))
        let ports = try await simulator.start()
        let secrets = try SecretBox(key: key)
        let client = PostgresClient(configuration: database.clientConfiguration, backgroundLogger: logger)
        let siteID = UUID()
        var panelIDs: [UUID] = []
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            let repositories = Repositories(context: DatabaseContext(client: client, secrets: secrets, logger: logger))
            _ = try await repositories.sites.insert(Site(id: siteID, code: "S-\(name.suffix(6))", name: "Test site"))
            for (index, port) in ports.enumerated() {
                let panel = try await repositories.panels.insert(Panel(
                    siteId: siteID, name: "Panel \(index + 1)", host: "127.0.0.1", port: port,
                    userCode: Secret(userCode), pollIntervalMs: 100))
                panelIDs.append(panel.id)
            }
            group.cancelAll()
        }
        return WorkerFixture(stack: stack, url: url, database: database, secretsDirectory: secretsDirectory, secrets: secrets,
                             simulator: simulator, panelIDs: panelIDs, siteID: siteID, logger: logger)
    }

    func stop() async {
        await simulator.stop()
    }

    /// For writers that write only on a transaction's connection (the SMS consumer): the pool behind it is never run.
    var repositories: Repositories {
        Repositories(context: DatabaseContext(client: PostgresClient(configuration: database.clientConfiguration, backgroundLogger: logger),
                                              secrets: secrets, logger: logger))
    }

    // MARK: Workers

    static let leaseTTL = Duration.seconds(2)

    /// Child workers' logs, kept after the run for a failed test's post-mortem (one directory per test process).
    static let logDirectory: String = {
        let path = "\(RunDirectory.tests)/worker-logs-\(getpid())"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    func configuration(_ workerID: String) -> WorkerConfiguration {
        WorkerConfiguration(
            workerID: workerID, lease: PanelLeaseConfiguration(ttl: Self.leaseTTL), pollInterval: .milliseconds(100),
            panelRequestTimeout: .seconds(2), panelBackoff: ReconnectBackoff(initialDelay: 0.2, maximumDelay: 0.5, busyDelay: 0.5, jitter: 0.2),
            retryDelay: .milliseconds(200), commandSweepInterval: .milliseconds(200), liveStateRefreshInterval: .milliseconds(300),
            panelListRefreshInterval: .seconds(5), databaseWriteTimeout: .seconds(2), shutdownTimeout: .seconds(5),
            unknownOutcomeGrace: .seconds(1))
    }

    /// A worker; with `relay`, it reaches PostgreSQL only through that relay (a test can cut it off).
    func worker(_ workerID: String, through relay: TCPRelay? = nil) throws -> StamWorker {
        let database = try relay.map(database(through:)) ?? self.database
        return StamWorker(configuration: configuration(workerID), database: database, secrets: secrets,
                          redis: stack.redisConfiguration, amqp: stack.amqpConfiguration, logger: logger)
    }

    /// This test's database reached through `relay` (which a test can cut).
    func database(through relay: TCPRelay) throws -> DatabaseConfiguration {
        try DatabaseConfiguration(url: "postgresql://app@127.0.0.1:\(relay.port)/\(url.split(separator: "/").last!)",
                                  passwordFile: "\(secretsDirectory)/postgres_password")
    }

    /// Runs `body` while an in-process worker runs, then shuts it down gracefully.
    func withWorker<Result: Sendable>(_ workerID: String = "w1", through relay: TCPRelay? = nil,
                                      _ body: (StamWorker) async throws -> Result) async throws -> Result {
        let worker = try worker(workerID, through: relay)
        return try await withService(worker) { try await body(worker) }
    }

    /// Runs `body` while `worker` (built by the test, e.g. with its own Redis or broker address) runs, then shuts it
    /// down gracefully.
    func withService<Result: Sendable>(_ worker: StamWorker, _ body: () async throws -> Result) async throws -> Result {
        let group = ServiceGroup(configuration: .init(services: [.init(service: worker)], logger: logger))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                let result = try await body()
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
        }
    }

    /// A real `stam worker` child process with short timings.
    func child(_ workerID: String, metricsPort: Int, environment extra: [String: String] = [:]) throws -> LocalProcess {
        try stam(["worker", "--worker-id", workerID, "--metrics-host", "127.0.0.1", "--metrics-port", String(metricsPort),
                  "--lease-ttl", "2000ms", "--poll-interval", "100ms", "--command-sweep", "200ms",
                  "--live-state-refresh", "300ms", "--reconnect-delay", "300ms"],
                 name: workerID, environment: extra)
    }

    /// A real `stam` child process (`arguments` from the subcommand on) on this fixture's servers and secrets; its log
    /// is `<logDirectory>/<name>.log`.
    func stam(_ arguments: [String], name: String, environment extra: [String: String] = [:]) throws -> LocalProcess {
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = url
        environment["REDIS_URL"] = "redis://127.0.0.1:\(stack.redis.port)/0"
        environment["RABBITMQ_URL"] = stack.rabbitmq.url
        environment["STAM_SECRETS_DIR"] = secretsDirectory
        for (key, value) in extra { environment[key] = value }
        let process = try LocalProcess(
            name: "stam \(arguments.first ?? "") \(name)", executable: StamBinary.path, arguments: arguments,
            environment: environment, logFile: "\(Self.logDirectory)/\(name).log")
        // Recorded so a later run kills it if this test process dies first.
        if let handle = FileHandle(forWritingAtPath: "\(stack.runDirectory)/processes")
            ?? (FileManager.default.createFile(atPath: "\(stack.runDirectory)/processes", contents: nil)
                ? FileHandle(forWritingAtPath: "\(stack.runDirectory)/processes") : nil) {
            handle.seekToEndOfFile()
            handle.write(Data(process.registryLine.utf8))
            try? handle.close()
        }
        return process
    }

    // MARK: Queries

    func withConnection<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        let connection = try await PostgresConnection.connect(configuration: database.connectionConfiguration, id: 1, logger: logger)
        do {
            let result = try await body(connection)
            try await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }

    func int(_ sql: String) async throws -> Int {
        try await withConnection { connection in
            var value = -1
            for try await number in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).decode(Int.self) {
                value = number
            }
            return value
        }
    }

    func strings(_ sql: String) async throws -> [String] {
        try await withConnection { connection in
            var values: [String] = []
            for try await value in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).decode(String.self) {
                values.append(value)
            }
            return values
        }
    }

    func execute(_ sql: String) async throws {
        try await withConnection { connection in
            _ = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        }
    }

    func redisHash(_ key: String) async throws -> [String: String] {
        let redis = RedisClient(configuration: stack.redisConfiguration, logger: logger)
        defer { Task { await redis.close() } }
        return try await redis.hashGetAll(key)
    }

    func waitUntilAllConnected(within bound: Duration = .seconds(30)) async throws {
        try await eventually("every panel connected", within: bound) {
            try await int("SELECT count(*)::int FROM panels WHERE connection_state = 'connected'") == panelIDs.count
        }
    }
}

/// The `stam` executable next to the test bundle.
enum StamBinary {
    static var path: String {
        let testBinary = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = (testBinary as NSString).deletingLastPathComponent
        while !directory.isEmpty && directory != "/" {
            let candidate = "\(directory)/stam"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = (directory as NSString).deletingLastPathComponent
        }
        return "stam"
    }
}
