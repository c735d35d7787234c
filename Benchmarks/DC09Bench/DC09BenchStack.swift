import Database
import Dispatch
import DevStack
import Foundation
import Generated
import Logging
import MigrationSupport
import NIOConcurrencyHelpers
import Persistence
import PostgresNIO

/// Everything one run starts, under a run directory of /tmp/stam-bench: a private PostgreSQL 15 (the one `LocalStack`
/// and the tests use; fsync on) migrated by the committed migrations, the secret files a `stam receiver` reads, the
/// station's accounts, and the `stam receiver` child. `stop` ends them by PID (the receiver first) and removes the
/// directory; it runs at the end, after a failure, and on SIGINT/SIGTERM. A run killed before that is reaped by the
/// next one (`RunDirectory`: the receiver's PID is in its registry, PostgreSQL is found by its postmaster.pid).
final class DC09BenchStack: Sendable {
    static let baseDirectory = "/tmp/stam-bench"

    let run: RunDirectory
    let postgres: PostgresServer
    let database: DatabaseConfiguration
    let secretsDirectory: String
    let receiverPort: Int
    let metricsPort: Int
    var receiverLog: String { "\(run.path)/stam-receiver.log" }

    private let receiver = NIOLockedValueBox<LocalProcess?>(nil)
    private let stopped = NIOLockedValueBox(false)
    /// Held for a whole `stop`, so a signal arriving during the normal end waits until everything is down.
    private let stopping = NIOLock()
    private let interrupted = NIOLockedValueBox(false)

    /// - Parameter diagnose: PostgreSQL logs statements over 30 ms and lock waits over 20 ms (in its log, kept with
    ///   DC09_BENCH_KEEP_LOGS).
    init(migrations: String, diagnose: Bool, logger: Logger) async throws {
        run = try RunDirectory.create("dc09", under: Self.baseDirectory)
        secretsDirectory = "\(run.path)/secrets"
        let password = "bench-\(UUID().uuidString.prefix(8))"
        // track_wal_io_timing: the report gives the mean WAL flush (`WALSyncs`).
        var settings = ["track_wal_io_timing": "on"]
        if diagnose { settings.merge(["log_min_duration_statement": "30", "log_lock_waits": "on", "deadlock_timeout": "20ms"]) { $1 } }
        postgres = PostgresServer(directory: "\(run.path)/pg", port: try FreePort.find(), settings: settings)
        database = DatabaseConfiguration(host: "127.0.0.1", port: postgres.port, username: "app", database: "stam", password: password)
        receiverPort = try FreePort.find()
        metricsPort = try FreePort.find()
        do {
            try await postgres.start()
            try postgres.ensureDatabase("stam", owner: "app", password: password)
            _ = try await MigrationRunner(configuration: database, logger: logger).run(directory: try MigrationDirectory(path: migrations))
            try FileManager.default.createDirectory(atPath: secretsDirectory, withIntermediateDirectories: true)
            // As `stam secrets init` writes them: the receiver reads the accounts' key column with encryption_key.
            let key = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
            for (file, content) in [("postgres_password", password), ("encryption_key", key)] {
                try content.write(toFile: "\(secretsDirectory)/\(file)", atomically: true, encoding: .utf8)
                chmod("\(secretsDirectory)/\(file)", 0o600)
            }
        } catch {
            stop()
            throw error
        }
    }

    /// True once SIGINT or SIGTERM arrived.
    var wasInterrupted: Bool { interrupted.withLockedValue { $0 } }

    /// On SIGINT or SIGTERM: stop everything, then exit with 128 + the signal. Keep the returned sources alive.
    /// (Here, not in main.swift: a handler written there would be main-actor isolated and trap on Dispatch's queue.)
    func stopOnSignals() -> [any DispatchSourceSignal] {
        [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in
                interrupted.withLockedValue { $0 = true }
                stop()
                exit(128 + number)
            }
            source.resume()
            return source
        }
    }

    /// One site, and per account a panel without an ETHM-1 address (it reports over DC-09 only; its signal period is
    /// long, so no supervision alarm can interfere) with one plain account. Eight writers at once: 2,000 single-row
    /// transactions one after another take a while with fsync on.
    func seed(accounts count: Int, logger: Logger) async throws {
        let secrets = try SecretBox(keyFile: "\(secretsDirectory)/encryption_key")
        let client = PostgresClient(configuration: database.clientConfiguration, backgroundLogger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            let repositories = Repositories(context: DatabaseContext(client: client, secrets: secrets, logger: logger))
            let site = try await repositories.sites.insert(Site(code: "DC09-BENCH", name: "DC-09 benchmark"))
            try await withThrowingTaskGroup(of: Void.self) { writers in
                for writer in 0..<8 {
                    writers.addTask {
                        for index in stride(from: writer, to: count, by: 8) {
                            let panel = try await repositories.panels.insert(Panel(
                                siteId: site.id, name: "DC-09 communicator \(index + 1)", host: nil, signalPeriodS: 90_000))
                            _ = try await repositories.dc09Accounts.insert(Dc09Account(account: DC09LoadPlan.account(index, known: true), panelId: panel.id))
                        }
                    }
                }
                try await writers.waitForAll()
            }
        }
    }

    /// `stam receiver` on the run's ports, as compose runs it (default log level, account refresh and idle timeout),
    /// once its /readyz answers 200 (the accounts are read and PostgreSQL answers).
    func startReceiver(stam: String) async throws -> LocalProcess {
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = "postgresql://app@127.0.0.1:\(postgres.port)/stam"
        environment["STAM_SECRETS_DIR"] = secretsDirectory
        let process = try LocalProcess(
            name: "stam receiver", executable: stam,
            arguments: ["receiver", "--instance", "bench", "--host", "127.0.0.1", "--port", String(receiverPort),
                        "--metrics-host", "127.0.0.1", "--metrics-port", String(metricsPort)],
            environment: environment, logFile: receiverLog)
        run.record(process.pid)
        receiver.withLockedValue { $0 = process }
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let response = try? await HTTPGet.get(port: metricsPort, path: "/readyz", timeout: 2), response.status == 200 { return process }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        let log = (try? String(contentsOfFile: receiverLog, encoding: .utf8)) ?? ""
        throw DC09BenchError("stam receiver not ready within 60 s: \(log.suffix(2000))")
    }

    func connect(_ logger: Logger) async throws -> PostgresConnection {
        try await PostgresConnection.connect(configuration: database.connectionConfiguration, id: 1, logger: logger)
    }

    /// Stops the receiver (SIGTERM, SIGKILL after 15 s) and PostgreSQL by PID and removes the run directory; with
    /// `keepingLogs`, the receiver's and PostgreSQL's logs are copied out first, and where to is returned. Idempotent.
    @discardableResult
    func stop(keepingLogs: Bool = false) -> String? {
        stopping.withLock {
            guard !stopped.withLockedValue({ $0 }) else { return nil }
            stopped.withLockedValue { $0 = true }
            receiver.withLockedValue { $0 }?.stop(signal: SIGTERM, timeout: .seconds(15))
            postgres.stop()
            var kept: String?
            if keepingLogs {
                let target = "\(Self.baseDirectory)/dc09-bench-logs-\(getpid())"
                try? FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
                try? FileManager.default.copyItem(atPath: receiverLog, toPath: "\(target)/stam-receiver.log")
                try? FileManager.default.copyItem(atPath: postgres.logFile, toPath: "\(target)/postgres.log")
                kept = target
            }
            run.remove()
            return kept
        }
    }
}
