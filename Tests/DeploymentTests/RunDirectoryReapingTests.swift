import Foundation
import Testing
import DevStack
import TestSupport

/// `RunDirectory.reapDeadRuns` on what a killed test process leaves: a `stam up` state directory inside its run
/// directory, with the supervisor's registry and a compose project on the engine. (A CI run once failed because a
/// killed prod-stack test left its networks behind, and the next prod stack could not create the VLAN's subnet.)
@Suite(.integration, .tags(.integration)) struct RunDirectoryReapingTests {
    @Test func aDeadRunsNestedRegistryAndComposeProjectAreRemovedAndALiveRunIsLeftAlone() async throws {
        try await GeneratedServices.prepareEngine()
        let base = try DeploymentTools.temporaryDirectory("reaping")
        defer { try? FileManager.default.removeItem(atPath: base) }

        // A run whose owner is gone: the PID of a process that has exited (and been reaped).
        let exited = try LocalProcess(name: "true", executable: "/bin/true", arguments: [], logFile: "\(base)/true.log")
        exited.stop(signal: SIGTERM, timeout: .seconds(5))
        let dead = "\(base)/dead"
        let stack = "\(dead)/stack"
        try FileManager.default.createDirectory(atPath: stack, withIntermediateDirectories: true)
        try String(exited.pid).write(toFile: "\(dead)/owner.pid", atomically: true, encoding: .utf8)
        let server = try LocalProcess(name: "sleep", executable: "/bin/sleep", arguments: ["600"], logFile: "\(base)/sleep.log")
        defer { server.stop(signal: SIGKILL, timeout: .seconds(5)) }
        RunDirectory(path: stack).record(server.pid)
        let project = "stamreaptest\(getpid())"
        try ComposeProject(name: project, directory: stack, files: [], variables: [:]).write(to: stack)
        let network = "\(project)_satel_vlan"
        try LocalProcess.run(ContainerEngine.podman, ["network", "create", "--label", "com.docker.compose.project=\(project)", network])
        defer { _ = try? LocalProcess.run(ContainerEngine.podman, ["network", "rm", "-f", network]) }

        // A run whose owner is this process.
        let live = "\(base)/live"
        try FileManager.default.createDirectory(atPath: live, withIntermediateDirectories: true)
        try String(getpid()).write(toFile: "\(live)/owner.pid", atomically: true, encoding: .utf8)

        RunDirectory.reapDeadRuns(under: base)

        #expect(!FileManager.default.fileExists(atPath: dead))
        #expect(FileManager.default.fileExists(atPath: live))
        var exitedInTime = false
        for _ in 0..<50 where !exitedInTime {
            exitedInTime = !server.isRunning
            if !exitedInTime { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(exitedInTime, "the process in the dead run's nested registry still runs")
        let networks = try LocalProcess.run(ContainerEngine.podman, ["network", "ls", "--format", "{{.Name}}"])
        #expect(!networks.split(separator: "\n").contains(Substring(network)), "the dead run's compose network is still there")
    }
}
