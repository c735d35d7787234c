import ArgumentParser
import Foundation
import Generated
import Logging
import ServiceLifecycle

struct UpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Start the system natively on this machine (loopback, under .stam/), until Ctrl-C or `stam down`.")

    @Option(help: "Environment of schema/deployment.yaml to start: dev or prod.")
    var env = "dev"

    @Option(help: "State directory (data, logs, secrets, ports); default: .stam in the project (.stam/prod for prod).")
    var root: String?

    @Option(help: "Simulated panels to register and serve.")
    var panels = 3

    @Option(help: "Poll interval of the simulated panels.")
    var pollInterval = DurationArgument(milliseconds: 500)

    @Option(help: "The simulated panels' `mode`: auto (pushed where the module serves it), push or poll.")
    var panelMode: String = "auto"

    @Option(help: "Time between the demo scenario's alarms.")
    var demoInterval = DurationArgument(seconds: 60)

    @Flag(help: "Exit (stopping everything) as soon as the stack is up.")
    var exitWhenReady = false

    @Flag(help: "prod: use the images as they are, without `make images` first (as `docker-compose up --no-build`).")
    var noBuild = false

    func run() async throws {
        guard ["dev", "prod"].contains(env) else { throw ValidationError("unknown environment '\(env)'; use dev or prod") }
        guard (1...2000).contains(panels) else { throw ValidationError("--panels must be 1...2000") }
        guard let panelMode = PanelMode(rawValue: panelMode) else { throw ValidationError("--panel-mode must be auto, push or poll") }
        // The panels' `poll_interval_ms` column.
        let pollIntervalMilliseconds = pollInterval.milliseconds
        var logger = Logger(label: "stam.up")
        logger.logLevel = .info
        let projectRoot = LocalStackPaths.projectRoot()
        if env == "prod" {
            let paths = LocalStackPaths(root: root.map { URL(fileURLWithPath: $0).standardizedFileURL.path } ?? "\(projectRoot)/.stam/prod")
            let supervisor = ProdStackSupervisor(projectRoot: projectRoot, paths: paths, panelCount: panels, pollInterval: pollIntervalMilliseconds,
                                                 panelMode: panelMode, demoInterval: demoInterval.duration, logger: logger, exitWhenReady: exitWhenReady,
                                                 buildImages: !noBuild)
            try await ServiceGroup(configuration: .init(
                services: [.init(service: supervisor, successTerminationBehavior: .gracefullyShutdownGroup)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)).run()
            return
        }
        let paths = root.map { LocalStackPaths(root: URL(fileURLWithPath: $0).standardizedFileURL.path) } ?? LocalStackPaths(projectRoot: projectRoot)
        let supervisor = LocalStackSupervisor(
            projectRoot: projectRoot, environment: env, paths: paths, panelCount: panels, pollInterval: pollIntervalMilliseconds,
            panelMode: panelMode, demoInterval: demoInterval.duration, logger: logger, exitWhenReady: exitWhenReady)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: supervisor, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }
}
