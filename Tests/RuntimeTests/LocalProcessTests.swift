import Foundation
import DevStack
import Testing
import TestSupport

/// A started server gets stdin, stdout and stderr, nothing else of ours: a child holding one of the
/// parent's sockets would keep its port bound after the parent died.
@Suite(.integration, .tags(.integration)) struct LocalProcessTests {
    @Test func aChildInheritsOnlyTheStandardDescriptors() async throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd > 2)
        defer { close(fd) }
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("local-process-\(UUID()).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let child = try LocalProcess(name: "sleep", executable: "/bin/sleep", arguments: ["30"], logFile: log)
        defer { child.stop(signal: SIGKILL, timeout: .seconds(5)) }
        // posix_spawn returns once the child has exec'd, but its dynamic loader may still hold a library
        // open (fd 3) for a moment, so wait for the loader to finish; an inherited descriptor never goes away.
        var descriptors: [Int] = []
        for _ in 0..<50 {
            descriptors = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(child.pid)/fd").compactMap(Int.init).sorted()
            if descriptors == [0, 1, 2] { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(!descriptors.contains(Int(fd)))
        #expect(descriptors == [0, 1, 2])
    }
}
