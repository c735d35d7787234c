import ArgumentParser
import Foundation
import DevStack

struct DownCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down",
        abstract: "Stop a local stack started by `stam up` in this project.")

    @Option(help: "State directory of the stack (default: .stam in the project).")
    var root: String?

    func run() async throws {
        let project = LocalStackPaths.projectRoot()
        // Without --root: whichever of dev (.stam) and prod (.stam/prod) runs.
        let candidates = root.map { [LocalStackPaths(root: URL(fileURLWithPath: $0).standardizedFileURL.path)] }
            ?? [LocalStackPaths(projectRoot: project), LocalStackPaths(root: "\(project)/.stam/prod")]
        let running = candidates.compactMap(\.runningSupervisor)
        for pid in running { try await stop(pid) }
        // A prod stack whose supervisor was killed leaves its containers to the engine: they go the same way.
        var removed = false
        for paths in candidates where paths.runningSupervisor == nil {
            guard let project = try? ComposeProject.read(from: paths.root), !((try? await project.services()) ?? []).isEmpty else { continue }
            try await project.compose(["down"])
            print("down: removed the containers and networks of compose project '\(project.name)' (volumes stay)")
            removed = true
        }
        if running.isEmpty && !removed { print("down: no local stack is running here") }
    }

    private func stop(_ pid: Int32) async throws {
        kill(pid, SIGTERM)
        for _ in 0..<600 where kill(pid, 0) == 0 { try await Task.sleep(for: .milliseconds(100)) }
        print(kill(pid, 0) == 0 ? "down: the stack (pid \(pid)) is still stopping" : "down: stopped")
    }
}
