import Database
import Foundation
import Generated
import DevStack
import Logging
import Messaging
import MigrationSupport
import Persistence
import PostgresNIO
import Secrets
import ServiceLifecycle

/// What `stam up` runs: the environment's services natively on loopback, under `.stam/` (or `--root`), on
/// ports chosen free once and kept (`ports.json`), until SIGINT/SIGTERM; then everything it started is
/// stopped by PID in reverse order. A process that exits by itself is restarted (as `restart: always`
/// does in the compose files). `stack.json` says what runs where, for scripts and the end-to-end tests.
///
/// dev: PostgreSQL 15 (no Patroni), Redis 7, RabbitMQ 3, the panel simulator with a demo scenario, the modem
/// simulator, one relay, one worker, the SMS agent, one backend (which also consumes sms.inbox).
struct LocalStackSupervisor: Service {
    let projectRoot: String
    let environment: String
    let paths: LocalStackPaths
    let panelCount: Int
    let pollInterval: Int
    let panelMode: PanelMode
    let demoInterval: Duration
    let logger: Logger
    /// Stop right after start-up (used by scripts and tests that only need the stack once).
    let exitWhenReady: Bool

    static var stamExecutable: String {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
    }

    func run() async throws {
        let started = ContinuousClock.now
        let manager = FileManager.default
        try manager.createDirectory(atPath: paths.logs, withIntermediateDirectories: true)
        try paths.claimSupervisor()
        defer { try? manager.removeItem(atPath: paths.supervisorPID) }
        // A supervisor killed with SIGKILL left its children running: they hold our ports and data.
        LocalProcess.killRegistered(in: paths.processRegistry)
        try? manager.removeItem(atPath: paths.processRegistry)

        let progress = Progress(total: 7)
        progress.step("secrets")
        let secrets = try SecretsInitializer(specifications: StamSecrets.all).run(root: paths.root, owner: nil, onlyMissing: true)
        progress.done(secrets.created.isEmpty ? "kept \(secrets.kept.count) in \(paths.secrets)" : "created \(secrets.created.count) in \(paths.secrets)")

        let ports = LocalStackPorts(file: paths.ports)
        var servers = Servers()
        var children: [StackProcess] = []
        defer {
            for child in children.reversed() { child.stop() }
            servers.stop()
        }

        progress.step("PostgreSQL 15")
        let postgres = PostgresServer(directory: paths.postgres, port: try ports.port("postgres"))
        servers.postgres = postgres
        try await postgres.start()
        let postgresPassword = try SecretFiles.read("\(paths.secrets)/postgres_password")
        try postgres.ensureDatabase("stam", owner: "app", password: postgresPassword)
        let databaseURL = "postgresql://app@127.0.0.1:\(postgres.port)/stam"
        let database = try DatabaseConfiguration(url: databaseURL, passwordFile: "\(paths.secrets)/postgres_password")
        var quiet = logger
        quiet.logLevel = .warning  // the progress line says how many were applied
        let migrations = try await MigrationRunner(configuration: database, logger: quiet)
            .run(directory: try MigrationDirectory(path: "\(projectRoot)/migrations"))
        progress.done("port \(postgres.port), \(migrations.applied.count) migrations applied, \(migrations.alreadyApplied.count) already")

        progress.step("Redis 7")
        let redis = RedisServer(directory: paths.serverDirectory("redis"), port: try ports.port("redis"),
                                password: try SecretFiles.read("\(paths.secrets)/redis_password"))
        servers.redis = redis
        try await redis.start()
        try redis.recordProcess(in: paths.processRegistry)
        progress.done("port \(redis.port)")

        progress.step("RabbitMQ 3")
        let rabbitmq = try RabbitMQServer(directory: paths.serverDirectory("rabbitmq"), port: try ports.port("rabbitmq"),
                                          password: try Self.brokerPassword(secrets: paths.secrets))
        servers.rabbitmq = rabbitmq
        try await rabbitmq.start()
        try rabbitmq.recordProcesses(in: paths.processRegistry)
        try await Self.declareTopology(on: rabbitmq, logger: logger)
        progress.done("port \(rabbitmq.port), topology declared")

        progress.step("demo data")
        let simulatorPort = try ports.block("panel-simulator", count: panelCount)
        let demo = try await LocalStackDemoData.seed(database: database, paths: paths, panelCount: panelCount, host: "127.0.0.1",
                                                    firstPort: simulatorPort, pollInterval: pollInterval, panelMode: panelMode, logger: logger)
        progress.done("\(panelCount) simulated panels, admin '\(LocalStackDemoData.adminLogin)'")

        var environment = ProcessInfo.processInfo.environment
        // Every process reaches PostgreSQL itself here (no PgBouncer), so the repositories may prepare statements.
        environment["DATABASE_URL"] = databaseURL + "?prepared_statements=true"
        environment["DATABASE_REPLICA_URL"] = databaseURL
        environment["REDIS_URL"] = redis.url
        environment["RABBITMQ_URL"] = rabbitmq.url
        environment["STAM_SECRETS_DIR"] = paths.secrets
        let stam = Self.stamExecutable
        func child(_ name: String, _ arguments: [String], readiness: StackProcess.Readiness) -> StackProcess {
            StackProcess(name: name, executable: stam, arguments: arguments, environment: environment,
                         logDirectory: paths.logs, readiness: readiness, registry: paths.processRegistry)
        }

        let controlPort = try ports.port("panel-simulator.control")
        let backendPort = try ports.port("backend-1")
        // Chosen now: `ports.port` hands out a new port for a name whose port is taken, as it is once the process runs.
        var metricsPorts: [String: Int] = [:]
        for name in ["outbox-relay-1", "satel-worker-1", "sms-agent", "backend-1.metrics", "dc09-receiver-1.metrics"] {
            metricsPorts[name] = try ports.port(name)
        }
        let dc09Port = try ports.port("dc09-receiver-1")
        let plan: [(String, StackProcess)] = [
            ("panel simulator", child("panel-simulator", [
                "simulator", "--host", "127.0.0.1", "--port", String(simulatorPort), "--panels", String(panelCount),
                "--control-port", String(controlPort),
            ], readiness: .tcp(port: controlPort))),
            ("modem simulator", child("modem-simulator", [
                "modem-sim", "--link", paths.modemDevice, "--control-fifo", paths.modemControl,
            ], readiness: .started)),
            ("outbox relay", child("outbox-relay-1", [
                "relay", "--instance", "outbox-relay-1", "--metrics-host", "127.0.0.1", "--metrics-port", String(try ports.port("outbox-relay-1")),
            ], readiness: .http(port: try ports.port("outbox-relay-1"), path: "/readyz"))),
            ("satel worker", child("satel-worker-1", [
                "worker", "--worker-id", "satel-worker-1", "--metrics-host", "127.0.0.1", "--metrics-port", String(try ports.port("satel-worker-1")),
            ], readiness: .http(port: try ports.port("satel-worker-1"), path: "/readyz"))),
            ("SMS agent", child("sms-agent", [
                "sms-agent", "--device", paths.modemDevice, "--state-directory", "\(paths.root)/sms",
                "--metrics-host", "127.0.0.1", "--metrics-port", String(try ports.port("sms-agent")),
            ], readiness: .http(port: try ports.port("sms-agent"), path: "/readyz"))),
            ("DC-09 receiver", child("dc09-receiver-1", [
                "receiver", "--instance", "dc09-receiver-1", "--host", "127.0.0.1", "--port", String(dc09Port),
                "--metrics-host", "127.0.0.1", "--metrics-port", String(metricsPorts["dc09-receiver-1.metrics"]!),
            ], readiness: .http(port: metricsPorts["dc09-receiver-1.metrics"]!, path: "/readyz"))),
            ("backend", child("backend-1", [
                "backend", "--host", "127.0.0.1", "--port", String(backendPort), "--instance", "backend-1",
                "--metrics-host", "127.0.0.1", "--metrics-port", String(try ports.port("backend-1.metrics")),
            ], readiness: .http(port: backendPort, path: "/readyz"))),
        ]
        progress.step("stam services")
        for (_, process) in plan {
            try process.start()
            children.append(process)
        }
        for (label, process) in plan {
            try await process.waitUntilReady(timeout: .seconds(90))
            progress.detail("\(label) ready")
        }
        progress.done("\(plan.count) processes, logs in \(paths.logs)")

        progress.step("demo scenario")
        let scenario = DemoScenario(controlPort: controlPort, panelCount: panelCount, interval: demoInterval, logger: logger)
        try await scenario.prepare()
        progress.done("partitions armed; an alarm every \(demoInterval)")

        let summary = StackSummary(
            environment: self.environment, root: paths.root, logs: paths.logs,
            api: "http://127.0.0.1:\(backendPort)", console: "http://127.0.0.1:\(backendPort)/",
            webSocket: "ws://127.0.0.1:\(backendPort)/ws", databaseURL: databaseURL, redisURL: redis.url, rabbitmqURL: rabbitmq.url,
            adminLogin: LocalStackDemoData.adminLogin, adminPasswordFile: paths.adminPassword,
            panelIDs: demo.panelIDs.map { $0.uuidString.lowercased() }, simulatorControlPort: controlPort, modemControl: paths.modemControl,
            processes: Dictionary(uniqueKeysWithValues: children.map { ($0.name, Int($0.pid ?? 0)) }),
            metrics: Dictionary(uniqueKeysWithValues: [
                ("outbox-relay-1", "outbox-relay-1"), ("satel-worker-1", "satel-worker-1"), ("sms-agent", "sms-agent"),
                ("backend-1", "backend-1.metrics"), ("dc09-receiver-1", "dc09-receiver-1.metrics"),
            ].map { name, port in (name, "http://127.0.0.1:\(metricsPorts[port]!)/metrics") }),
            dc09Receivers: ["127.0.0.1:\(dc09Port)"])
        try summary.write(to: paths.stack)
        try paths.writeEnvironmentFile(summary)
        print(summary.banner(adminPassword: demo.adminPassword, startedIn: ContinuousClock.now - started))
        fflush(nil)
        if exitWhenReady { return }

        // Until Ctrl-C / SIGTERM / `stam down`: the demo scenario, and a restart for anything that exits.
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await scenario.run() }
            group.addTask { [children, logger] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    for child in children where child.restartIfExited(logger: logger) {
                        try? summary.updating(process: child.name, pid: Int(child.pid ?? 0)).write(to: paths.stack)
                    }
                }
            }
            try? await gracefulShutdown()
            group.cancelAll()
        }
        logger.info("stopping the local stack")
    }

    /// The servers started in-process (each has its own start/stop), stopped after the stam processes.
    struct Servers {
        var postgres: PostgresServer?
        var redis: RedisServer?
        var rabbitmq: RabbitMQServer?

        func stop() {
            rabbitmq?.stop()
            redis?.stop()
            postgres?.stop()
        }
    }

    /// "[3/10] RabbitMQ 3 ... port 41234 (2.1 s)" lines while the stack starts.
    final class Progress {
        let total: Int
        var index = 0
        var stepStarted = ContinuousClock.now

        init(total: Int) { self.total = total }

        func step(_ name: String) {
            index += 1
            stepStarted = .now
            print("[\(index)/\(total)] \(name) ...", terminator: " ")
            fflush(nil)
        }

        func detail(_ text: String) {
            print(text + ",", terminator: " ")
            fflush(nil)
        }

        func done(_ text: String) {
            let elapsed = ContinuousClock.now - stepStarted
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            print("\(text) (\(String(format: "%.1f", seconds)) s)")
            fflush(nil)
        }
    }

    /// Declares the generated topology before any stam process connects, and makes the broker write its
    /// quorum-queue registry to disk at once: RabbitMQ 3.10 loses a queue killed within about a second of its
    /// declaration (`RabbitMQServer.syncQuorumQueueRegistry`), and the SMS agent publishes as soon as it starts.
    static func declareTopology(on rabbitmq: RabbitMQServer, logger: Logger) async throws {
        let configuration = AMQPConfiguration(host: "127.0.0.1", port: rabbitmq.port, virtualHost: rabbitmq.virtualHost,
                                              username: rabbitmq.username, password: rabbitmq.password)
        let publisher = Publisher(configuration: configuration, topology: StamTopology.messaging, logger: logger)
        try await publisher.connect()
        await publisher.close()
        try rabbitmq.syncQuorumQueueRegistry()
    }

    /// The local stack's broker has a single user (loopback only, every process declares the topology): its password
    /// is `rabbitmq_password` in the stack's secrets, made here on first use. The deployment's secrets have no such
    /// file: there each service has a user and a password of its own (schema `rabbitmq.users`).
    static func brokerPassword(secrets: String) throws -> String {
        let path = "\(secrets)/rabbitmq_password"
        if FileManager.default.fileExists(atPath: path) { return try SecretFiles.read(path) }
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        var generator = SystemRandomNumberGenerator()
        let password = String((0..<32).map { _ in alphabet.randomElement(using: &generator)! })
        guard FileManager.default.createFile(atPath: path, contents: Data(password.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw LocalProcess.LaunchError(description: "cannot write \(path)")
        }
        return password
    }
}
