import ArgumentParser
import Logging
import ServiceLifecycle

struct UpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Start the system natively on this machine (loopback, under .stam/), until Ctrl-C.")

    @Option(help: "Environment of schema/deployment.yaml to start: dev or prod.")
    var env = "dev"

    @Flag(help: "Exit (stopping everything) as soon as the stack is up and migrated.")
    var exitWhenReady = false

    func run() async throws {
        guard ["dev", "prod"].contains(env) else { throw ValidationError("unknown environment '\(env)'; use dev or prod") }
        let logger = Logger(label: "stam.up")
        let supervisor = LocalStackSupervisor(projectRoot: LocalStackPaths.projectRoot(), environment: env,
                                              logger: logger, exitWhenReady: exitWhenReady)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: supervisor, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }
}
