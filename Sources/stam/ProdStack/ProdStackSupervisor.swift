import Database
import Generated
import Foundation
import DevStack
import Logging
import Secrets
import ServiceLifecycle

/// `stam up --env prod`: the seed's production topology from the generated compose files on this machine's
/// real container engine (podman with docker-compose over its Docker API, `ContainerEngine`): images built
/// from the generated Dockerfiles (scripts/build-images.sh), `docker-compose up` of
/// `deploy/generated/docker-compose.prod.yml` plus the generated `docker-compose.prod.local.yml` (the
/// macvlan as a bridge, Grafana left out), health checks run by `ContainerHealthScheduler` (no systemd here).
/// The simulated panels and modem are programs on this host, where the field would be: the panels on the
/// satel_vlan bridge's gateway address, the modem's pty handed to the sms-agent as its device.
///
/// What an admin does around `docker-compose up` is done here as docs/DEPLOYMENT.md says: `stam secrets init`
/// (files owned by the images' uid), the migrations by the compose file's one-shot `migrate` service, the first
/// admin with `docker-compose exec -T backend-1 stam user add`; then the demo site and its panels.
/// State: `.stam/prod` (secrets, logs, compose.json); data in the project's named volumes, kept by Ctrl-C and
/// `stam down` (`docker-compose down` removes containers and networks only).
struct ProdStackSupervisor: Service {
    /// The seed's 13 containers; the compose file also runs migrate, backup, Prometheus and the exporters.
    static let services = [
        "etcd", "pg-primary", "pg-replica", "pgbouncer", "redis", "rabbitmq", "backend-1", "backend-2",
        "outbox-relay-1", "outbox-relay-2", "satel-worker", "sms-agent", "nginx",
    ]

    let projectRoot: String
    let paths: LocalStackPaths
    let panelCount: Int
    let pollInterval: Int
    let panelMode: PanelMode
    let demoInterval: Duration
    let logger: Logger
    let exitWhenReady: Bool
    var buildImages = true

    /// `stam` for the project's own `.stam/prod`; another state directory (the tests') gets a project, and so
    /// volumes, of its own.
    var projectName: String {
        if paths.root == "\(projectRoot)/.stam/prod" { return "stam" }
        let key = String(UInt32(truncatingIfNeeded: paths.root.utf8.reduce(5381) { ($0 << 5) &+ $0 &+ Int($1) }), radix: 16)
        return "stam\(key)"
    }

    /// SIGTERM or Ctrl-C stop the start-up too, at any step: the running podman or docker-compose command is
    /// terminated and what was started goes down. Until it was up, a `stam up` told to stop waited for the whole
    /// start (minutes); killed meanwhile, it left docker-compose creating containers and the simulators running.
    func run() async throws {
        try await cancelWhenGracefulShutdown { try await self.start() }
    }

    /// `docker-compose down` out of the caller's cancellation: it runs because the stack is being stopped, and in a
    /// cancelled task `ContainerEngine` would terminate it as soon as it started.
    private func down(_ project: ComposeProject) async throws {
        _ = try await Task.detached { try await project.compose(["down"]) }.value
    }

    private func start() async throws {
        let started = ContinuousClock.now
        guard getuid() == 0 else {
            throw ContainerEngine.Failure(description: "`stam up --env prod` runs rootful podman and needs root, as Docker does")
        }
        let manager = FileManager.default
        try manager.createDirectory(atPath: paths.logs, withIntermediateDirectories: true)
        try paths.claimSupervisor()
        defer { try? manager.removeItem(atPath: paths.supervisorPID) }
        try? manager.removeItem(atPath: paths.stack)  // written again once everything is up
        // Simulators a killed supervisor left behind (the containers are the engine's and stay).
        LocalProcess.killRegistered(in: paths.processRegistry)
        manager.createFile(atPath: paths.processRegistry, contents: nil)

        let progress = LocalStackSupervisor.Progress(total: 8)
        progress.step("secrets")
        let secrets = try SecretsInitializer(specifications: StamSecrets.all)
            .run(root: paths.root, owner: .stamImages, onlyMissing: true)
        progress.done("\(secrets.created.count) created, \(secrets.kept.count) kept in \(paths.secrets), owned by the images' uid 10001")

        progress.step("container engine")
        try await ContainerEngine.prepare(projectRoot: projectRoot)
        progress.done("podman \(try await ContainerEngine.run(ContainerEngine.podman, ["--version"]).split(separator: " ").last ?? "?") at \(ContainerEngine.socket)")

        progress.step("images")
        if buildImages {
            let imageLog = "\(paths.logs)/images.log"
            try await ContainerEngine.runLogged("\(projectRoot)/scripts/build-images.sh", [], logFile: imageLog)
            progress.done("base images, stand-ins and the schema's images current (log: \(imageLog))")
        } else {
            progress.done("as they are (--no-build)")
        }

        progress.step("simulated panels and modem")
        let ports = LocalStackPorts(file: paths.ports)
        let firstPanelPort = try ports.block("panel-simulator", count: panelCount)
        let controlPort = try ports.port("panel-simulator.control")
        let stam = LocalStackSupervisor.stamExecutable
        // The panels listen on every address: the worker reaches them at the satel_vlan bridge's gateway.
        let simulator = StackProcess(name: "panel-simulator", executable: stam, arguments: [
            "simulator", "--host", "0.0.0.0", "--port", String(firstPanelPort), "--panels", String(panelCount),
            "--control-port", String(controlPort),
        ], environment: ProcessInfo.processInfo.environment, logDirectory: paths.logs, readiness: .tcp(port: controlPort),
           registry: paths.processRegistry)
        try? manager.removeItem(atPath: paths.modemDevice)
        let modem = StackProcess(name: "modem-simulator", executable: stam, arguments: [
            "modem-sim", "--link", paths.modemDevice, "--control-fifo", paths.modemControl,
        ], environment: ProcessInfo.processInfo.environment, logDirectory: paths.logs,
           readiness: .check { [paths] in FileManager.default.fileExists(atPath: paths.modemDevice) }, registry: paths.processRegistry)
        let simulators = [simulator, modem]
        defer { for process in simulators { process.stop() } }
        for process in simulators { try process.start() }
        for process in simulators { try await process.waitUntilReady(timeout: .seconds(30)) }
        // The modem's serial port as udev leaves a USB modem's: root:dialout 0660 (the sms-agent's group_add).
        let pty = try manager.destinationOfSymbolicLink(atPath: paths.modemDevice)
        try await ContainerEngine.run("/bin/chgrp", ["dialout", pty])
        try await ContainerEngine.run("/bin/chmod", ["0660", pty])
        progress.done("\(panelCount) panels on port \(firstPanelPort)..., modem on \(pty)")

        // The NAS share as the backup container expects it mounted: marked with .stam-nas, writable by its uid.
        let nas = "\(paths.root)/nas"
        try manager.createDirectory(atPath: nas, withIntermediateDirectories: true)
        if !manager.fileExists(atPath: "\(nas)/.stam-nas") { manager.createFile(atPath: "\(nas)/.stam-nas", contents: nil) }
        try await ContainerEngine.run("/bin/chown", ["-R", "10001:10001", nas])
        let httpsPort = try ports.port("nginx")
        // The receivers' published ports (schema: 7200 and 7201) moved to free ones, as nginx's 443 is.
        let dc09Ports = [try ports.port("dc09-receiver-1"), try ports.port("dc09-receiver-2")]
        let vlanGateway = "192.168.100.1"
        let project = ComposeProject(
            name: projectName, directory: "\(projectRoot)/deploy/generated",
            files: ["docker-compose.prod.yml", "docker-compose.prod.local.yml"],
            variables: [
                "STAM_SECRETS_DIR": paths.secrets, "STAM_CERTS_DIR": "\(paths.root)/certs",
                "STAM_IMAGE_REGISTRY": "localhost", "STAM_IMAGE_TAG": "latest",
                "STAM_PUBLISH_ADDRESS": "127.0.0.1", "STAM_NGINX_HTTPS_PORT": String(httpsPort),
                "STAM_DC09_RECEIVER_1_DC09_PORT": String(dc09Ports[0]), "STAM_DC09_RECEIVER_2_DC09_PORT": String(dc09Ports[1]),
                "STAM_MODEM_DEVICE": pty, "STAM_NAS_DIR": nas, "SATEL_VLAN_GATEWAY": vlanGateway,
            ])
        try project.write(to: paths.root)

        do {
            try await runStack(project, progress: progress, started: started, httpsPort: httpsPort, dc09Ports: dc09Ports, vlanGateway: vlanGateway,
                               firstPanelPort: firstPanelPort, controlPort: controlPort, simulators: simulators)
        } catch {
            // Ctrl-C or a failure while starting: the containers go as on a normal stop (the volumes stay).
            logger.info("stopping the production stack: docker-compose down (volumes stay)")
            try? await down(project)
            // Told to stop while starting: the command it stopped failed, and that is no error of the stack's.
            if Task.isCancelled {
                logger.notice("stopped while starting; the containers are down (volumes stay)")
                return
            }
            throw error
        }
    }

    private func runStack(_ project: ComposeProject, progress: LocalStackSupervisor.Progress, started: ContinuousClock.Instant,
                          httpsPort: Int, dc09Ports: [Int], vlanGateway: String, firstPanelPort: Int, controlPort: Int,
                          simulators: [StackProcess]) async throws {
        let manager = FileManager.default
        try await withThrowingTaskGroup(of: Void.self) { group in
            try? manager.removeItem(atPath: "\(paths.root)/startup.json")
            group.addTask {
                try await ContainerHealthScheduler(project: project.name, logger: logger, startupFile: "\(paths.root)/startup.json").run()
            }
            defer { group.cancelAll() }

            progress.step("docker-compose up")
            let composeLog = "\(paths.logs)/compose.log"
            do {
                try await project.composeLogged(["up", "-d", "--remove-orphans"], logFile: composeLog)
            } catch {
                try Task.checkCancellation()  // stopped, not failed: no second try
                // `up -d` is idempotent; once seen here, a docker-compose exit 1 without a word (the API socket busy
                // with a previous project's teardown). A second failure is reported with the engine's view.
                // Also seen: docker-compose 1.29 gives up on the whole `up` when a dependency is `unhealthy` at the moment
                // it looks (a backend whose /readyz failed three times while the databases were still settling); the
                // engine keeps checking it, so the second `up` waits until every container with a check has passed one.
                let statuses = await project.containerStatuses()
                logger.warning("docker-compose up failed; once more when every container with a health check is healthy",
                               metadata: ["error": "\(error)", "containers": "\(statuses)"])
                try? await waitUntilHealthy(project, timeout: .seconds(180))
                try await Task.sleep(for: .seconds(3))
                do {
                    try await project.composeLogged(["up", "-d", "--remove-orphans"], logFile: composeLog)
                } catch {
                    let containers = await project.containerStatuses()
                    // One stack of this kind per machine: another project's satel_vlan holds the same fixed subnet.
                    let networks = (try? await ContainerEngine.run(ContainerEngine.podman, ["network", "ls", "--format", "{{.Name}}"])) ?? ""
                    throw ContainerEngine.Failure(description: "\(error)\ncontainers of the project:\n\(containers)\nnetworks (a leftover <project>_satel_vlan of another stack holds the VLAN's subnet: `stam down --root <its state>` or `podman network rm`):\n\(networks)")
                }
            }
            let running = try await project.services()
            try await waitUntilHealthy(project, timeout: .seconds(300))
            progress.done("\(running.count) containers healthy, project '\(project.name)' (log: \(composeLog))")

            progress.step("first admin and demo data")
            guard let pgbouncer = try await project.address(of: "pgbouncer") else {
                throw ContainerEngine.Failure(description: "pgbouncer has no address")
            }
            var adminPassword: String?
            if !manager.fileExists(atPath: paths.adminPassword) {
                let password = LocalStackDemoData.randomPassword()
                // docs/DEPLOYMENT.md's first admin, as an admin types it.
                let (status, output) = try await project.composeStatus([
                    "exec", "-T", "backend-1", "stam", "user", "add", "--login", LocalStackDemoData.adminLogin, "--role", "admin",
                ], input: password + "\n")
                if status == 0 {
                    guard manager.createFile(atPath: paths.adminPassword, contents: Data((password + "\n").utf8),
                                             attributes: [.posixPermissions: 0o600]) else {
                        throw ContainerEngine.Failure(description: "cannot write \(paths.adminPassword)")
                    }
                    adminPassword = password
                } else if !output.contains("already") {
                    throw ContainerEngine.Failure(description: "stam user add in backend-1 failed (exit \(status)):\n\(output)")
                }
            }
            // PgBouncer takes TLS clients only; from the host it is an address, not the name its certificate carries, so
            // the CA is checked and the name not (verify-ca).
            let databaseURL = "postgresql://app@\(pgbouncer):6432/stam?sslmode=verify-ca&sslrootcert=\(paths.secrets)/postgres_tls_ca"
            let database = try DatabaseConfiguration(url: databaseURL, passwordFile: "\(paths.secrets)/postgres_password")
            let demo = try await LocalStackDemoData.seed(database: database, paths: paths, panelCount: panelCount, host: vlanGateway,
                                                        firstPort: firstPanelPort, pollInterval: pollInterval, panelMode: panelMode, logger: logger)
            adminPassword = adminPassword ?? demo.adminPassword
            progress.done("admin '\(LocalStackDemoData.adminLogin)', \(panelCount) panels at \(vlanGateway)")

            progress.step("demo scenario")
            let scenario = DemoScenario(controlPort: controlPort, panelCount: panelCount, interval: demoInterval, logger: logger)
            try await scenario.prepare()
            progress.done("partitions armed; an alarm every \(demoInterval)")

            var addresses: [String: String] = [:]
            var processes: [String: Int] = [:]
            for (service, state) in try await project.snapshot(of: running) {
                addresses[service] = state.address
                processes[service] = state.pid
            }
            var summary = StackSummary(
                environment: "prod", root: paths.root, logs: paths.logs,
                api: "https://127.0.0.1:\(httpsPort)", console: "https://127.0.0.1:\(httpsPort)/", webSocket: "wss://127.0.0.1:\(httpsPort)/ws",
                databaseURL: databaseURL, redisURL: "redis://\(addresses["redis"] ?? "redis"):6379",
                rabbitmqURL: "amqp://stam@\(addresses["rabbitmq"] ?? "rabbitmq"):5672/stam",
                adminLogin: LocalStackDemoData.adminLogin, adminPasswordFile: paths.adminPassword,
                panelIDs: demo.panelIDs.map { $0.uuidString.lowercased() }, simulatorControlPort: controlPort,
                modemControl: paths.modemControl, certificate: "\(paths.root)/certs/server.crt",
                processes: processes, addresses: addresses)
            summary.composeProject = project.name
            summary.dc09Receivers = dc09Ports.map { "127.0.0.1:\($0)" }
            try summary.write(to: paths.stack)
            try paths.writeEnvironmentFile(summary)
            print(summary.banner(adminPassword: adminPassword, startedIn: ContinuousClock.now - started))
            print("  engine      podman; `stam stop|start <service>`, or DOCKER_HOST=\(ContainerEngine.dockerHost) docker-compose -p \(project.name) ... / docker ps")
            print("  left out    grafana (no image on this machine: packaged in neither Debian nor PyPI; docs/DEPLOYMENT.md)")
            fflush(nil)
            if exitWhenReady {
                try await down(project)
                return
            }

            // Until Ctrl-C / SIGTERM / `stam down`: the demo scenario, the simulators kept running, and stack.json's
            // PIDs and addresses (a container restarted by the engine, or stopped with `stam stop`, shows a new PID or 0,
            // and usually a new address: the engine hands one out at every start).
            group.addTask { try? await scenario.run() }
            group.addTask { [logger, paths] in
                var written = summary
                while !Task.isCancelled {
                    // Each look costs a `podman inspect` of every container (0.1 s of CPU): every 2 s, not every 500 ms.
                    try? await Task.sleep(for: .seconds(2))
                    for process in simulators { _ = process.restartIfExited(logger: logger) }
                    guard let snapshot = try? await project.snapshot(of: running) else { continue }
                    var current = written
                    for service in running {
                        let state = snapshot[service]
                        current.processes[service] = state?.pid ?? 0
                        if let address = state?.address, state?.pid != 0 { current.addresses?[service] = address }
                    }
                    if current.processes != written.processes || current.addresses != written.addresses,
                       (try? current.write(to: paths.stack)) != nil { written = current }
                }
            }
            try? await gracefulShutdown()
            logger.info("stopping the production stack: docker-compose down (volumes stay)")
            try await down(project)
        }
    }

    /// Every container of the project with a health check is healthy and every other one runs (the one-shot
    /// `migrate` exited with 0); a failed migration fails the start with its log's end.
    private func waitUntilHealthy(_ project: ComposeProject, timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        var waitingFor: [String] = []
        while ContinuousClock.now < deadline {
            let listing = try await ContainerEngine.run(ContainerEngine.podman, [
                "ps", "-a", "--filter", "label=com.docker.compose.project=\(project.name)",
                "--format", "{{index .Labels \"com.docker.compose.service\"}}|{{.Status}}",
            ])
            waitingFor = []
            for line in listing.split(separator: "\n") {
                let parts = line.split(separator: "|", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { continue }
                let (service, status) = (parts[0], parts[1])
                if status.hasPrefix("Exited (0)") { continue }
                // A one-shot that failed will not run again; a service that exits is restarted by the engine.
                if service == "migrate" && status.hasPrefix("Exited") {
                    let logs = (try? await project.compose(["logs", "--tail", "30", service])) ?? ""
                    throw ContainerEngine.Failure(description: "\(service): \(status)\n\(logs)")
                }
                // Services without a health check are the engine's to restart; the start waits for those with one.
                if status.contains("(starting)") || status.contains("(unhealthy)") { waitingFor.append(service) }
            }
            if waitingFor.isEmpty && !listing.isEmpty { return }
            try await Task.sleep(for: .seconds(1))
        }
        throw ContainerEngine.Failure(description: "not healthy within \(timeout): \(waitingFor.joined(separator: ", "))")
    }
}
