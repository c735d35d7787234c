import DevStack
import Foundation
import Testing

/// `stam up --env prod` told to stop while it starts (SIGTERM, Ctrl-C) cancels its start-up task, and the podman or
/// docker-compose command it waits for must end with it: before, the command ran to its end, and when `stam up` was
/// killed meanwhile, docker-compose went on creating containers that nobody would take down.
@Suite(.integration, .tags(.integration)) struct ContainerEngineCancellationTests {
    @Test func aCancelledCommandIsTerminatedAndReportedAsFailed() async throws {
        // A duration no other process on the machine has in its command line, to find this one in /proc.
        let marker = "20.\(Int.random(in: 100_000...999_999))"
        let command = Task { try await ContainerEngine.run("/bin/sleep", [marker]) }
        #expect(try await Self.waitForProcess(containing: marker), "sleep \(marker) never started")
        command.cancel()
        await #expect(throws: ContainerEngine.Failure.self) { try await command.value }
        #expect(Self.processes(containing: marker).isEmpty, "sleep \(marker) still runs after its caller was cancelled")
    }

    @Test func aCommandCancelledBeforeItStartsNeverRuns() async throws {
        let marker = "20.\(Int.random(in: 100_000...999_999))"
        let command = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await ContainerEngine.run("/bin/sleep", [marker])
        }
        await #expect(throws: (any Error).self) { try await command.value }
        #expect(Self.processes(containing: marker).isEmpty)
    }

    static func processes(containing marker: String) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.filter { Int($0) != nil }.filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            return String(decoding: data, as: UTF8.self).contains(marker)
        }
    }

    static func waitForProcess(containing marker: String) async throws -> Bool {
        for _ in 0..<100 {
            if !processes(containing: marker).isEmpty { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }
}
