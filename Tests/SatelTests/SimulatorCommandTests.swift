import Foundation
import Testing
@testable import Satel
@testable import SatelSimulator

@Suite struct SimulatorCommandTests {
    @Test func theDefaultPanelIsTheDocumentedOne() throws {
        let configuration = try SimulatorCommand.configuration(port: 7094)
        let panel = configuration.scenario.panel
        #expect(panel.model == .integra128)
        #expect(panel.zones.count == 32 && panel.partitionNames.count == 4 && panel.outputNames.count == 8)
        #expect(panel.users.count == 1)
        let user = try #require(panel.users.first)
        #expect(user.code == "1234" && user.partitions == [1, 2, 3, 4])
        #expect(user.rights.isSuperset(of: [.arm, .disarm, .clearAlarm]))
        #expect(configuration.port == 7094 && configuration.panelCount == 1 && configuration.integrationKey == nil)
    }

    @Test func modelAndOptionsOverrideTheDefault() throws {
        let configuration = try SimulatorCommand.configuration(port: 9000, model: "INTEGRA 256 Plus", integrationKey: "k", panels: 5)
        #expect(configuration.scenario.panel.model == .integra256Plus)
        #expect(configuration.scenario.panel.serves32ByteLists)
        #expect(configuration.panelCount == 5 && configuration.integrationKey == "k")
        #expect(throws: SimulatorScenarioError.self) { try SimulatorCommand.configuration(model: "INTEGRA 9000") }
    }

    @Test func aScenarioFileIsRead() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("satel-scenario-\(UUID().uuidString).yaml").path
        try "panel:\n  model: \"64\"\n  zones: 10\nsteps:\n  - { at: 2s, action: violate-zone, zone: 3 }\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let configuration = try SimulatorCommand.configuration(scenarioPath: path)
        #expect(configuration.scenario.panel.model == .integra64)
        #expect(configuration.scenario.panel.zones.count == 10)
        #expect(configuration.scenario.steps == [SimulatorScenario.Step(at: 2, action: .violateZone(3))])
        #expect(throws: SimulatorScenarioError.self) { try SimulatorCommand.configuration(scenarioPath: path + ".missing") }
    }
}
