import Satel
import Yams

/// One line of the simulator's control port: the scenario step vocabulary without `at`, plus the panel it
/// is for (1-based, default 1; 0 = every panel). Lines are YAML flow mappings, e.g.
/// `{ action: violate-zone, zone: 3 }` or `{ panel: 2, action: arm, partitions: [1], mode: 0 }`.
/// `{ action: state }` answers with the panel's armed partitions, violated zones and alarms;
/// `{ action: changes }` with the panel's `ChangeTimeline` (when each action was applied and first served);
/// `{ panel: 0, action: clients }` with the connection counters summed over the panels (`PanelSimulatorStatistics`):
/// `clients accepted=N refused=N peak-above-1=N` (panels that ever had two clients at once).
struct SimulatorControlCommand {
    enum Request {
        case perform(PanelAction)
        case state
        case changes
        case clients
    }

    var panel: Int
    var request: Request

    static func parse(line: String) throws -> SimulatorControlCommand {
        struct Line: Decodable {
            var panel: Int?
            var action: String
        }
        let header: Line
        let step: ScenarioFile.Step
        do {
            header = try YAMLDecoder().decode(Line.self, from: line)
            step = try YAMLDecoder().decode(ScenarioFile.Step.self, from: line, userInfo: [ScenarioFile.Step.atIsOptional: true])
        } catch let error as SimulatorScenarioError {
            throw error
        } catch {
            throw SimulatorScenarioError(message: "not a control line (a YAML mapping with an action): \(error)")
        }
        switch header.action {
        case "state": return SimulatorControlCommand(panel: header.panel ?? 1, request: .state)
        case "changes": return SimulatorControlCommand(panel: header.panel ?? 1, request: .changes)
        case "clients": return SimulatorControlCommand(panel: header.panel ?? 1, request: .clients)
        default: return SimulatorControlCommand(panel: header.panel ?? 1, request: .perform(try step.panelAction(stepNumber: 1)))
        }
    }
}
