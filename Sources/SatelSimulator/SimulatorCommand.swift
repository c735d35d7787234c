import Satel
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// `stam simulator`: what an ArgumentParser subcommand calls, in one line.
public enum SimulatorCommand {
    /// Builds the simulator configuration from the command-line options. Without a scenario the panel is an
    /// INTEGRA 128 with 32 zones, 4 partitions, 8 outputs and user code 1234 allowed to arm, disarm and clear
    /// alarms in partitions 1-4. `model` overrides the scenario's model (name like "INTEGRA 256 Plus" or "128",
    /// or a 0x7E type code like "72").
    public static func configuration(
        port: Int = 7094, model: String? = nil, integrationKey: String? = nil, scenarioPath: String? = nil,
        panels: Int = 1, host: String = "0.0.0.0", controlPort: Int? = nil, controlHost: String = "127.0.0.1"
    ) throws -> SimulatorConfiguration {
        var scenario = try scenarioPath.map(SimulatorScenario.load(path:)) ?? SimulatorScenario()
        if let model {
            guard let found = PanelModel.named(model) else {
                throw SimulatorScenarioError(
                    message: "unknown model '\(model)'; known: \(PanelModel.all.map(\.name).joined(separator: ", "))")
            }
            if scenarioPath == nil {
                scenario.panel = .standard(model: found)
            } else {
                scenario.panel.model = found
            }
        }
        var configuration = SimulatorConfiguration(
            host: host, port: port, panelCount: panels, scenario: scenario, integrationKey: integrationKey,
            controlPort: controlPort)
        configuration.controlHost = controlHost
        return configuration
    }

    /// Runs the simulator until SIGINT or SIGTERM. `controlPort` opens the line-based control port on
    /// `controlHost` (e.g. `echo '{ action: violate-zone, zone: 3 }' | nc 127.0.0.1 PORT`).
    public static func run(
        port: Int = 7094, model: String? = nil, integrationKey: String? = nil, scenarioPath: String? = nil,
        panels: Int = 1, host: String = "0.0.0.0", controlPort: Int? = nil, controlHost: String = "127.0.0.1",
        logger: Logger = Logger(label: "satel.simulator")
    ) async throws {
        let configuration = try configuration(
            port: port, model: model, integrationKey: integrationKey, scenarioPath: scenarioPath, panels: panels, host: host,
            controlPort: controlPort, controlHost: controlHost)
        let server = SimulatorServer(configuration: configuration, logger: logger)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: server)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
