import ArgumentParser
import Foundation

/// `stam stop <service>` / `stam start <service>`: one service of a running `stam up --env prod` taken down
/// and kept down, then brought back, as `docker compose stop`/`kill` and `start` do (the supervisor would
/// otherwise restart it at once, `restart: always`). For operators rehearsing a failure and for the
/// end-to-end tests: a hold file under `.stam/prod/stopped/` that the supervisor acts on.
struct StopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop",
        abstract: "Stop one service of the running prod stack and keep it down until `stam start` (--kill: SIGKILL its whole container).")

    @Argument(help: "Service name, e.g. pg-primary, backend-1, outbox-relay-2, redis.") var service: String
    @Flag(help: "SIGKILL every process of the service's container at once (a crash), instead of SIGTERM to its main process.")
    var kill = false
    @Option(help: "State directory of the stack (default: .stam/prod in the project).") var root: String?

    func run() async throws {
        let paths = ServiceControl.paths(root)
        try ServiceControl.requireService(service, in: paths)
        try FileManager.default.createDirectory(atPath: "\(paths.root)/stopped", withIntermediateDirectories: true)
        try (kill ? "KILL\n" : "TERM\n").write(toFile: "\(paths.root)/stopped/\(service)", atomically: true, encoding: .utf8)
        try await ServiceControl.wait(for: service, in: paths, timeout: .seconds(90)) { $0 == 0 }
        print("stop: \(service) is down (kept down until `stam start \(service)`)")
    }
}

struct StartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start", abstract: "Start again a service stopped with `stam stop`.")

    @Argument(help: "Service name.") var service: String
    @Option(help: "State directory of the stack (default: .stam/prod in the project).") var root: String?

    func run() async throws {
        let paths = ServiceControl.paths(root)
        try ServiceControl.requireService(service, in: paths)
        try? FileManager.default.removeItem(atPath: "\(paths.root)/stopped/\(service)")
        try await ServiceControl.wait(for: service, in: paths, timeout: .seconds(90)) { $0 != 0 }
        print("start: \(service) is running again")
    }
}

enum ServiceControl {
    static func paths(_ root: String?) -> LocalStackPaths {
        LocalStackPaths(root: root.map { URL(fileURLWithPath: $0).standardizedFileURL.path } ?? "\(LocalStackPaths.projectRoot())/.stam/prod")
    }

    static func requireService(_ service: String, in paths: LocalStackPaths) throws {
        guard let summary = try? StackSummary.read(from: paths.stack), paths.runningSupervisor != nil else {
            throw ValidationError("no prod stack is running under \(paths.root) (`stam up --env prod` starts one)")
        }
        guard summary.processes[service] != nil else {
            throw ValidationError("no service '\(service)'; the stack runs: \(summary.processes.keys.sorted().joined(separator: ", "))")
        }
    }

    /// Waits until the service's PID in stack.json satisfies `done` (0 = down).
    static func wait(for service: String, in paths: LocalStackPaths, timeout: Duration, _ done: (Int) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let pid = (try? StackSummary.read(from: paths.stack))?.processes[service], done(pid) { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw ValidationError("\(service) did not change within \(timeout); see \(paths.logs)/\(service).log")
    }
}
