import Satel
import NIOCore

/// How `SimulatorServer` runs: where it listens, how many panels, which panel, encryption and timeline.
public struct SimulatorConfiguration: Sendable {
    /// The address to listen on; `127.0.0.1` keeps the simulator off the network.
    public var host: String
    /// The first panel's port; panel *i* listens on `port + i`. 0 lets the system pick a free port for each.
    public var port: Int
    public var panelCount: Int
    public var scenario: SimulatorScenario
    /// The integration key, when the module should speak the encrypted protocol (doc §8).
    public var integrationKey: String?
    /// The module closes a connection after this long without a complete frame (25 s on ETHM-1 Plus ≥ 2.03).
    public var idleTimeout: TimeAmount
    /// A line-based control port (see `SimulatorControlCommand`); nil for none, 0 for any free port.
    public var controlPort: Int?
    /// Where the control port listens: 127.0.0.1 unless the simulator runs in a container of its own and the
    /// host drives it across the container network (`stam up --env prod`).
    public var controlHost = "127.0.0.1"

    public init(
        host: String = "127.0.0.1", port: Int = 7094, panelCount: Int = 1, scenario: SimulatorScenario = SimulatorScenario(),
        integrationKey: String? = nil, idleTimeout: TimeAmount = .seconds(25), controlPort: Int? = nil
    ) {
        self.host = host
        self.port = port
        self.panelCount = max(1, panelCount)
        self.scenario = scenario
        self.integrationKey = integrationKey
        self.idleTimeout = idleTimeout
        self.controlPort = controlPort
    }
}
