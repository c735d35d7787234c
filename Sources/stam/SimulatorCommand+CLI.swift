import ArgumentParser
import Satel

/// `stam simulator`: simulated ETHM-1 modules (see Sources/Runtime/Satel/README.md).
struct SimulatorCLI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulator",
        abstract: "Run simulated ETHM-1 modules: one port per panel, from --port upwards.")

    @Option(help: "TCP port of the first panel.") var port = 7094
    @Option(help: "Panel model, e.g. integra128 (default: INTEGRA 128, 32 zones, 4 partitions, 8 outputs).") var model: String?
    @Option(help: "Encrypted-integration key (ETHM-1 Plus); plain integration when omitted.") var integrationKey: String?
    @Option(help: "Scenario YAML file.") var scenario: String?
    @Option(help: "How many panels.") var panels = 1
    @Option(help: "Address to listen on.") var host = "0.0.0.0"
    @Option(help: "Line-based control port (violate zones, tamper, ...).") var controlPort: Int?
    @Option(help: "Address of the control port (only 127.0.0.1 unless the simulator runs in a container of its own).")
    var controlHost = "127.0.0.1"

    func run() async throws {
        try await SimulatorCommand.run(port: port, model: model, integrationKey: integrationKey, scenarioPath: scenario,
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
        @Option(help: "Encrypted-integration key.") var integrationKey: String?
        @Option(help: "Newest event-log records to show.") var events = 10
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let status = await PanelProbeCommand.run(host: host, port: port, integrationKey: integrationKey, events: events, json: json)
            if status != 0 { throw ExitCode(status) }
        }
    }
}
