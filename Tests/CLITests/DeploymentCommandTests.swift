import ArgumentParser
import Foundation
import Testing
@testable import stam

/// Every `command:` of a stam service in the generated compose files is one the `stam` binary accepts:
/// the deployment is generated from the schema, the CLI is written by hand, and a renamed or missing option
/// would otherwise only show when a container fails to start.
@Suite struct DeploymentCommandTests {
    static let projectRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `command: ["stam", ...]` lines of a compose file, as argument lists after "stam".
    static func stamCommands(in file: String) throws -> [[String]] {
        let text = try String(contentsOf: projectRoot.appendingPathComponent(file), encoding: .utf8)
        return try text.split(separator: "\n").compactMap { line -> [String]? in
            guard let range = line.range(of: "command: ") else { return nil }
            let array = try JSONSerialization.jsonObject(with: Data(line[range.upperBound...].utf8)) as? [String] ?? []
            return array.first == "stam" ? Array(array.dropFirst()) : nil
        }
    }

    @Test(arguments: ["deploy/generated/docker-compose.prod.yml", "deploy/generated/docker-compose.dev.yml"])
    func everyStamCommandOfTheComposeFileParses(_ file: String) throws {
        let commands = try Self.stamCommands(in: file)
        #expect(commands.count >= 4, "\(file): \(commands)")
        for arguments in commands {
            #expect(throws: Never.self, "\(file): stam \(arguments.joined(separator: " "))") { _ = try Stam.parseAsRoot(arguments) }
        }
    }

    @Test func aMisspelledOptionIsRefused() {
        #expect(throws: (any Error).self) { _ = try Stam.parseAsRoot(["sms-agent", "--modem-url", "tcp://modem-simulator:7100"]) }
    }
}
