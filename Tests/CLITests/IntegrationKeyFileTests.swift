import ArgumentParser
import Foundation
import Testing
@testable import stam

/// The panel tools take an ETHM-1 integration key from a file, never from their arguments (visible to every
/// user of the machine in the process list).
@Suite struct IntegrationKeyFileTests {
    @Test func theKeyComesFromAFileAndNotFromTheCommandLine() throws {
        #expect(throws: (any Error).self) { _ = try Stam.parseAsRoot(["panel", "probe", "--host", "10.0.0.5", "--integration-key", "secret"]) }
        #expect(throws: (any Error).self) { _ = try Stam.parseAsRoot(["simulator", "--integration-key", "secret"]) }
        #expect(throws: Never.self) { _ = try Stam.parseAsRoot(["panel", "probe", "--host", "10.0.0.5", "--integration-key-file", "/run/secrets/key"]) }

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("key-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try "0123456789ab\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try IntegrationKeyFile.read(file) == "0123456789ab")
        #expect(try IntegrationKeyFile.read(nil) == nil)
        try "\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect { try IntegrationKeyFile.read(file) } throws: { "\($0)".contains("is empty") }
        #expect { try IntegrationKeyFile.read("/nonexistent/key") } throws: { "\($0)".contains("cannot read") }
    }
}
