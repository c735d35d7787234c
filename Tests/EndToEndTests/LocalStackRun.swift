import Foundation
import LocalStack
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

        var apiPort: Int { Int(api.split(separator: ":").last!)! }
    }

    let root: String
    let process: LocalProcess
    private(set) var summary: Summary

    var logFile: String { "\(root)/up.out" }

    private init(root: String, process: LocalProcess, summary: Summary) {
        self.root = root
        self.process = process
        self.summary = summary
    }

    static func start(panels: Int) async throws -> LocalStackRun {
        let root = "/tmp/stam-tests/e2e-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let process = try LocalProcess(
            name: "stam up", executable: StamBinary.path,
            arguments: ["up", "--root", root, "--panels", String(panels), "--poll-interval-ms", "300", "--demo-interval-seconds", "3600"],
            logFile: "\(root)/up.out")
        let deadline = ContinuousClock.now + .seconds(180)
        while ContinuousClock.now < deadline {
            guard process.isRunning else { throw EndToEndFailure(description: "stam up exited:\n\(tail("\(root)/up.out"))") }
            if let data = FileManager.default.contents(atPath: "\(root)/stack.json"),
               let summary = try? JSONDecoder().decode(Summary.self, from: data) {
                return LocalStackRun(root: root, process: process, summary: summary)
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        process.stop(signal: SIGTERM, timeout: .seconds(60))
        throw EndToEndFailure(description: "stam up was not ready within 180 s:\n\(tail("\(root)/up.out"))")
    }

    func reloadSummary() throws {
        summary = try JSONDecoder().decode(Summary.self, from: Data(contentsOf: URL(fileURLWithPath: "\(root)/stack.json")))
    }

    var adminPassword: String {
        get throws { try String(contentsOfFile: summary.adminPasswordFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    /// SIGTERM and wait: the supervisor stops its children and servers, then exits.
    func stop() {
        process.stop(signal: SIGTERM, timeout: .seconds(90))
    }

    func removeState() {
        try? FileManager.default.removeItem(atPath: root)
    }

    static func tail(_ path: String, lines: Int = 40) -> String {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").suffix(lines).joined(separator: "\n")
    }
}
