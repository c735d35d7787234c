import ArgumentParser
import Foundation
import Satel
import SatelSimulator

/// `stam simulator`: simulated ETHM-1 modules (see Sources/Runtime/Satel/README.md).
struct SimulatorCLI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulator",
        abstract: "Run simulated ETHM-1 modules: one port per panel, from --port upwards.")

    @Option(help: "TCP port of the first panel.") var port = 7094
    @Option(help: "Panel model, e.g. integra128 (default: INTEGRA 128, 32 zones, 4 partitions, 8 outputs).") var model: String?
    @Option(help: "File holding the encrypted-integration key (ETHM-1 Plus); plain integration when omitted.") var integrationKeyFile: String?
    @Option(help: "Scenario YAML file.") var scenario: String?
    @Option(help: "How many panels.") var panels = 1
    @Option(help: "Address to listen on.") var host = "0.0.0.0"
    @Option(help: "Line-based control port (violate zones, tamper, ...).") var controlPort: Int?
    @Option(help: "Address of the control port (only 127.0.0.1 unless the simulator runs in a container of its own).")
    var controlHost = "127.0.0.1"

    func run() async throws {
        try await SimulatorCommand.run(port: port, model: model, integrationKey: try IntegrationKeyFile.read(integrationKeyFile), scenarioPath: scenario,
                                       panels: panels, host: host, controlPort: controlPort, controlHost: controlHost)
    }
}

/// `stam panel probe`: the installer's check of a real module.
struct PanelCLI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "panel", abstract: "Panel tools.", subcommands: [Probe.self])

    struct Probe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Connect to an ETHM-1 module, print its model, state, troubles and newest events, disconnect.")

        @Option(help: "Module address.") var host: String
        @Option(help: "Integration port.") var port = 7094
        @Option(help: "File holding the encrypted-integration key (the key stays out of the process list).") var integrationKeyFile: String?
        @Option(help: "Newest event-log records to show.") var events = 10
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let status = await PanelProbeCommand.run(host: host, port: port, integrationKey: try IntegrationKeyFile.read(integrationKeyFile),
                                                     events: events, json: json)
            if status != 0 { throw ExitCode(status) }
        }
    }
}

/// An ETHM-1 integration key is a secret: the tools read it from a file (`-` for standard input), never from
/// their arguments, which every user of the machine can see in the process list.
enum IntegrationKeyFile {
    static func read(_ path: String?) throws -> String? {
        guard let path else { return nil }
        let data = path == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: path)
        guard let data, let text = String(data: data, encoding: .utf8) else {
            throw ValidationError("cannot read the integration key file '\(path)'")
        }
        let key = text.trimmingCharacters(in: .newlines)
        guard !key.isEmpty else { throw ValidationError("the integration key file '\(path)' is empty") }
        return key
    }
}
