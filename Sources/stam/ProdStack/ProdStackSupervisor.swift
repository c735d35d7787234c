import Database
import Foundation
import Generated
import LocalStack
import Logging
import MigrationSupport
import Persistence
import PostgresNIO
import Secrets
import ServiceLifecycle

/// `stam up --env prod`: the seed's 13 production services from the generated
/// `deploy/generated/docker-compose.prod.yml`, each in a container of its own (`ComposeStack`), with the
/// simulated panels and modem in two more containers where the field would be. State under `.stam/prod`
/// (secrets, volumes, logs); the host reaches the containers over the bed's bridge, nginx at its address on
/// 443 as the compose file publishes it. Needs root (namespaces, as Docker does).
///
/// What an admin does around `docker compose up` is done here too: `stam secrets init`, the migrations (one
/// `stam migrate` through PgBouncer once it is up; the images carry no migrations, see docs/DEPLOYMENT.md),
/// the first admin (`stam user add`), and the demo site with its panels.
struct ProdStackSupervisor: Service {
    /// The seed's 13 containers. The compose file's monitoring and backup services are not run natively.
    static let services = [
        "etcd", "pg-primary", "pg-replica", "pgbouncer", "redis", "rabbitmq", "backend-1", "backend-2",
        "outbox-relay-1", "outbox-relay-2", "satel-worker", "sms-agent", "nginx",
    ]
    /// The panel simulator's first panel port (ETHM-1's default integration port) and its control port.
    static let firstPanelPort = 7094
    static let controlPort = 7090

    let projectRoot: String
    let paths: LocalStackPaths
    let panelCount: Int
    let pollInterval: Int
    let demoInterval: Duration
    let logger: Logger
    let exitWhenReady: Bool

    var bedDirectory: String { "\(paths.root)/run" }

    func run() async throws {
        let started = ContinuousClock.now
        guard getuid() == 0 else {
            throw LocalProcess.LaunchError(description: "`stam up --env prod` runs every service in a container of its own (Linux namespaces) and needs root, as Docker does")
        }
        let manager = FileManager.default
        try manager.createDirectory(atPath: paths.root, withIntermediateDirectories: true)
        try paths.claimSupervisor()
        defer { try? manager.removeItem(atPath: paths.supervisorPID) }
        try? manager.removeItem(atPath: paths.stack)  // written again once everything is up
        // A supervisor killed with SIGKILL left its containers running: they hold the bed's network.
        NamespaceBed.killLeftovers(in: bedDirectory)

        let progress = LocalStackSupervisor.Progress(total: Self.services.count + 4)
        progress.step("secrets and tools")
        let secrets = try SecretsInitializer(specifications: StamSecrets.all).run(root: paths.root, owner: nil, onlyMissing: true)
        try LocalProcess.run("\(projectRoot)/scripts/install-python-tools.sh", [])
        progress.done("\(secrets.created.count) secrets created, \(secrets.kept.count) kept in \(paths.secrets); Patroni from PyPI")

        let compose = try ComposeFile(path: "\(projectRoot)/deploy/generated/docker-compose.prod.yml",
                                      variables: ["STAM_SECRETS_DIR": paths.secrets, "STAM_CERTS_DIR": "\(paths.root)/certs"])
        let stam = LocalStackSupervisor.stamExecutable
        let stack = try ComposeStack(
            compose: compose, containers: compose.services.map(\.name) + ["panel-simulator", "modem-simulator"],
            directory: bedDirectory, volumes: "\(paths.root)/volumes", logs: paths.logs, holds: "\(paths.root)/stopped",
            images: { [projectRoot] image in
                try NativeImage.standIn(for: image, stam: stam, generated: "\(projectRoot)/deploy/generated",
                                        pythonPath: "\(projectRoot)/.tools/python")
            })
        defer { stack.stop() }
        func address(_ name: String) -> String { stack.address(of: name)! }

        progress.step("simulated panels and modem")
        let simulatorHost = address("panel-simulator")
        let plainEnvironment = ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/root"]
        // The simulators' containers get this binary where the stam images have it (a checkout under /tmp would be
        // hidden by the container's own /tmp).
        let stamInside = [(stam, "/usr/local/bin/stam")]
        let simulator = try stack.startExtra("panel-simulator", [
            "/usr/local/bin/stam", "simulator", "--host", "0.0.0.0", "--port", String(Self.firstPanelPort), "--panels", String(panelCount),
            "--control-port", String(Self.controlPort), "--control-host", "0.0.0.0",
        ], binds: stamInside, environment: plainEnvironment, readiness: .check {
            (try? await LoopbackSocket.onOwnThread { _ = try LoopbackSocket(port: Self.controlPort, host: simulatorHost, timeout: 2) }) != nil
        })
        let modemLink = "\(bedDirectory)/modem.tty"
        let modemControl = "\(bedDirectory)/modem.control"
        try? manager.removeItem(atPath: modemLink)
        let modem = try stack.startExtra("modem-simulator", ["/usr/local/bin/stam", "modem-sim", "--link", modemLink, "--control-fifo", modemControl],
                                         binds: stamInside, environment: plainEnvironment, readiness: .check { FileManager.default.fileExists(atPath: modemLink) })
        try await simulator.waitUntilReady(timeout: .seconds(30))
        try await modem.waitUntilReady(timeout: .seconds(30))
        // The modem's serial port as udev leaves a USB modem's: root:dialout 0660 (the sms-agent's group_add).
        let pty = try manager.destinationOfSymbolicLink(atPath: modemLink)
        try LocalProcess.run("/bin/chgrp", ["dialout", pty])
        try LocalProcess.run("/bin/chmod", ["0660", pty])
        progress.done("\(panelCount) panels at \(simulatorHost):\(Self.firstPanelPort)..., modem on \(pty)")

        var demo: (panelIDs: [UUID], adminPassword: String?) = ([], nil)
        let databaseURL = "postgresql://app@\(address("pgbouncer")):6432/stam"
        for service in try compose.startOrder(of: Self.services) {
            progress.step(service.name)
            let process = try stack.start(service, devices: ["/dev/ttyUSB0": pty], logger: logger)
            try await process.waitUntilReady(timeout: service.healthcheckStartPeriod + .seconds(60))
            progress.done("healthy at \(address(service.name))")
            if service.name == "pgbouncer" {
                progress.step("migrations and demo data")
                let database = try DatabaseConfiguration(url: databaseURL, passwordFile: "\(paths.secrets)/postgres_password")
                var quiet = logger
                quiet.logLevel = .warning
                let directory = try MigrationDirectory(path: "\(projectRoot)/migrations")
                let migrations = try await retrying("the migrations through PgBouncer") {
                    try await MigrationRunner(configuration: database, logger: quiet).run(directory: directory)
                }
                demo = try await retrying("the demo data") {
                    try await LocalStackDemoData.seed(database: database, paths: paths, panelCount: panelCount, host: "panel-simulator",
                                                      firstPort: Self.firstPanelPort, pollInterval: pollInterval, logger: logger)
                }
                progress.done("\(migrations.applied.count) migrations applied, \(migrations.alreadyApplied.count) already; admin '\(LocalStackDemoData.adminLogin)'")
            }
        }

        progress.step("demo scenario")
        let scenario = DemoScenario(controlPort: Self.controlPort, controlHost: simulatorHost, panelCount: panelCount,
                                    interval: demoInterval, logger: logger)
        try await scenario.prepare()
        progress.done("partitions armed; an alarm every \(demoInterval)")

        let nginx = address("nginx")
        // nginx's 443 as the compose file publishes it, here on loopback at a port kept in ports.json.
        let published = try LocalStackPorts(file: paths.ports).port("nginx")
        let publisher = PortPublisher(listenPort: published, targetHost: nginx, targetPort: 443)
        let publishing = Task { try await publisher.run() }
        defer { publishing.cancel() }
        let summary = StackSummary(
            environment: "prod", root: paths.root, logs: paths.logs,
            api: "https://127.0.0.1:\(published)", console: "https://127.0.0.1:\(published)/", webSocket: "wss://127.0.0.1:\(published)/ws",
            databaseURL: databaseURL, redisURL: "redis://\(address("redis")):6379",
            rabbitmqURL: "amqp://stam@\(address("rabbitmq")):5672/stam",
            adminLogin: LocalStackDemoData.adminLogin, adminPasswordFile: paths.adminPassword,
            panelIDs: demo.panelIDs.map { $0.uuidString.lowercased() }, simulatorControlPort: Self.controlPort,
            simulatorControlHost: simulatorHost, modemControl: modemControl,
            certificate: "\(paths.root)/certs/server.crt",
            processes: Dictionary(uniqueKeysWithValues: stack.processes.map { ($0.name, Int($0.pid ?? 0)) }),
            addresses: Dictionary(uniqueKeysWithValues: stack.bed.hostNames.compactMap { name in stack.address(of: name).map { (name, $0) } }))
        try summary.write(to: paths.stack)
        try paths.writeEnvironmentFile(summary)
        print(summary.banner(adminPassword: demo.adminPassword, startedIn: ContinuousClock.now - started))
        fflush(nil)
        if exitWhenReady { return }

        // Until Ctrl-C / SIGTERM / `stam down`: the demo scenario, and `restart: always` for every container.
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await scenario.run() }
            group.addTask { [logger, paths] in
                var written = summary
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(250))
                    for name in stack.applyHolds() { logger.info("stopping a service on request", metadata: ["service": "\(name)"]) }
                    _ = stack.restartExited(logger: logger)
                    // stack.json: each service's PID, 0 while it is down (held by `stam stop`, or waiting for its restart).
                    var current = written
                    for process in stack.processes {
                        current.processes[process.name] = process.pid.flatMap { kill($0, 0) == 0 ? Int($0) : nil } ?? 0
                    }
                    if current.processes != written.processes, (try? current.write(to: paths.stack)) != nil { written = current }
                }
            }
            try? await gracefulShutdown()
            group.cancelAll()
        }
        logger.info("stopping the production stack")
    }

    /// PgBouncer answers before Patroni's first callbacks are done (a RELOAD closes its server connections):
    /// the first statements through it are retried for a while, the last error reported in full.
    private func retrying<Result>(_ what: String, _ work: () async throws -> Result) async throws -> Result {
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            do {
                return try await work()
            } catch {
                guard ContinuousClock.now < deadline else {
                    throw LocalProcess.LaunchError(description: "\(what) failed: \(String(reflecting: error))")
                }
                logger.debug("retrying", metadata: ["what": "\(what)", "error": "\(String(reflecting: error))"])
                try await Task.sleep(for: .seconds(1))
            }
        }
    }

}
