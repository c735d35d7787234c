import ArgumentParser
import Foundation
import DevStack

/// `stam stop <service>` / `stam start <service>`: one service of a running `stam up --env prod` taken down and
/// brought back by the container engine, `docker-compose stop`/`kill` and `start` on the stack's project (a
/// stopped or killed container stays down: `restart: always` does not bring back what the engine was told to
/// stop). For operators rehearsing a failure and for the end-to-end tests.
struct StopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop",
        abstract: "Stop one service of the running prod stack (docker-compose stop; --kill: SIGKILL, as a crash) until `stam start`.")

    @Argument(help: "Service name, e.g. pg-primary, backend-1, outbox-relay-2, redis.") var service: String
    @Flag(help: "SIGKILL the container's main process (a crash: the container dies with it), instead of a clean stop.")
    var kill = false
    @Option(help: "State directory of the stack (default: .stam/prod in the project).") var root: String?

    func run() async throws {
        let project = try ServiceControl.project(root, service: service)
        try await project.compose(kill ? ["kill", "-s", "SIGKILL", service] : ["stop", service])
        print("stop: \(service) is down (until `stam start \(service)`)")
    }
}

struct StartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start", abstract: "Start again a service stopped with `stam stop` (docker-compose start).")

    @Argument(help: "Service name.") var service: String
    @Option(help: "State directory of the stack (default: .stam/prod in the project).") var root: String?

    func run() async throws {
        let project = try ServiceControl.project(root, service: service)
        try await project.compose(["start", service])
        print("start: \(service) is running again")
    }
}

enum ServiceControl {
    static func paths(_ root: String?) -> LocalStackPaths {
        LocalStackPaths(root: root.map { URL(fileURLWithPath: $0).standardizedFileURL.path } ?? "\(LocalStackPaths.projectRoot())/.stam/prod")
    }

    /// The running prod stack's compose project, checked to have the service.
    static func project(_ root: String?, service: String) throws -> ComposeProject {
        let paths = paths(root)
        guard let summary = try? StackSummary.read(from: paths.stack), let project = try? ComposeProject.read(from: paths.root) else {
            throw ValidationError("no prod stack is running under \(paths.root) (`stam up --env prod` starts one)")
        }
        guard summary.processes[service] != nil else {
            throw ValidationError("no service '\(service)'; the stack runs: \(summary.processes.keys.sorted().joined(separator: ", "))")
        }
        return project
    }
}
