import Foundation
import DevStack
import TestSupport

/// A real `stam up` child process on a private state directory, for the end-to-end tests: started, read
/// from its `stack.json` once ready, stopped with SIGTERM (the supervisor stops everything it started).
final class LocalStackRun: @unchecked Sendable {
    /// The fields of `stack.json` the tests use.
    struct Summary: Decodable {
        var api: String
        var webSocket: String
        var adminLogin: String
        var adminPasswordFile: String
        var panelIDs: [String]
        var simulatorControlPort: Int
        var modemControl: String
        var processes: [String: Int]
        var logs: String
        var databaseURL: String
        var simulatorControlHost: String?
        var certificate: String?
        var addresses: [String: String]?
        /// Process -> its `/metrics` URL (dev).
        var metrics: [String: String]?
        /// The prod stack's compose project (its containers are `<project>_<service>_1`, its volumes `<project>_<volume>`).
        var composeProject: String?
        /// The DC-09 receivers' published `host:port`s (TCP and UDP).
        var dc09Receivers: [String]?

        var apiPort: Int { Int(api.split(separator: ":").last!)! }
        var controlHost: String { simulatorControlHost ?? "127.0.0.1" }
        func address(_ container: String) throws -> String {
            guard let address = addresses?[container] else { throw EndToEndFailure(description: "no address for \(container)") }
            return address
        }
    }

    /// The test's run directory (owner.pid, and the `stam up` process in its registry): a later run reaps it if
    /// this test process dies without its clean-up, containers and networks of a prod stack included.
    let run: RunDirectory
    /// The stack's state directory (`stam up --root`), inside `run`.
    let root: String
    let arguments: [String]
    private(set) var process: LocalProcess
    private(set) var summary: Summary

    var logFile: String { "\(root)/up.out" }

    private init(run: RunDirectory, root: String, arguments: [String], process: LocalProcess, summary: Summary) {
        self.run = run
        self.root = root
        self.arguments = arguments
        self.process = process
        self.summary = summary
    }

    static func start(panels: Int, environment: String = "dev", pollIntervalMs: Int = 300, timeout: Duration = .seconds(180)) async throws -> LocalStackRun {
        let run = try RunDirectory.create("e2e")
        let root = "\(run.path)/stack"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let arguments = ["up", "--env", environment, "--root", root, "--panels", String(panels), "--poll-interval", "\(pollIntervalMs)ms",
                         "--demo-interval", "1h"]
        do {
            let (process, summary) = try await launch(run: run, root: root, arguments: arguments, timeout: timeout)
            return LocalStackRun(run: run, root: root, arguments: arguments, process: process, summary: summary)
        } catch {
            // A prod stack that never became ready leaves no summary to clean up from: its project is in compose.json.
            if let project = try? ComposeProject.read(from: root) { ContainerEngine.removeProject(project.name) }
            throw error
        }
    }

    /// `stam up` again on the same state (after a stop or a SIGKILL of the supervisor): it must clean up what a
    /// killed run left and find its data again.
    func restart(timeout: Duration = .seconds(180)) async throws {
        try? FileManager.default.removeItem(atPath: "\(root)/stack.json")
        (process, summary) = try await Self.launch(run: run, root: root, arguments: arguments, timeout: timeout)
    }

    private static func launch(run: RunDirectory, root: String, arguments: [String], timeout: Duration) async throws -> (LocalProcess, Summary) {
        let process = try LocalProcess(name: "stam up", executable: StamBinary.path, arguments: arguments, logFile: "\(root)/up.out")
        run.record(process.pid)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard process.isRunning else { throw EndToEndFailure(description: "stam up exited:\n\(tail("\(root)/up.out"))") }
            if let data = FileManager.default.contents(atPath: "\(root)/stack.json"),
               let summary = try? JSONDecoder().decode(Summary.self, from: data) {
                return (process, summary)
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        process.stop(signal: SIGTERM, timeout: .seconds(60))
        throw EndToEndFailure(description: "stam up was not ready within \(timeout):\n\(tail("\(root)/up.out"))")
    }

    /// A service's address as stack.json has it now (the supervisor follows restarts, which change it).
    static func currentAddress(of service: String, root: String) throws -> String {
        try JSONDecoder().decode(Summary.self, from: Data(contentsOf: URL(fileURLWithPath: "\(root)/stack.json"))).address(service)
    }

    func reloadSummary() throws {
        summary = try JSONDecoder().decode(Summary.self, from: Data(contentsOf: URL(fileURLWithPath: "\(root)/stack.json")))
    }

    var adminPassword: String {
        get throws { try String(contentsOfFile: summary.adminPasswordFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    /// `stam stop <service> [--kill]` / `stam start <service>` on this stack (prod): the engine's stop/kill/start.
    func stopService(_ service: String, kill: Bool) throws {
        try LocalProcess.run(StamBinary.path, ["stop", service, "--root", root] + (kill ? ["--kill"] : []))
    }

    func startService(_ service: String) throws {
        try LocalProcess.run(StamBinary.path, ["start", service, "--root", root])
    }

    /// SIGTERM and wait: the supervisor stops its children and servers, then exits.
    func stop() {
        process.stop(signal: SIGTERM, timeout: .seconds(90))
    }

    /// Removes the state directory, unless STAM_KEEP_TEST_DIRECTORIES is set (to read the logs of a failure); for a
    /// prod stack also whatever the engine still holds of its project (containers, networks, volumes).
    func removeState() {
        guard ProcessInfo.processInfo.environment["STAM_KEEP_TEST_DIRECTORIES"] == nil else { return }
        if let project = summary.composeProject { ContainerEngine.removeProject(project) }
        run.remove()
    }

    /// `podman <arguments>` (the prod stack's engine); its output.
    @discardableResult
    static func podman(_ arguments: [String]) throws -> String {
        try LocalProcess.run("/usr/bin/podman", arguments).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func tail(_ path: String, lines: Int = 40) -> String {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").suffix(lines).joined(separator: "\n")
    }
}
