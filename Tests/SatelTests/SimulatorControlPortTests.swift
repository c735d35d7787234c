import NIOCore
import Testing
@testable import Satel
@testable import SatelSimulator

/// The simulator's line-based control port, driven over TCP as another process would.
@Suite(.timeLimit(.minutes(1))) struct SimulatorControlPortTests {
    @Test func linesChangeThePanelAndAreAnsweredInOrder() async throws {
        let server = SimulatorServer(configuration: SimulatorConfiguration(port: 0, panelCount: 2, controlPort: 0))
        try await server.start()
        let controlPort = try #require(server.boundControlPort)
        var control = try await RawPanelConnection.connect(port: controlPort)
        let lines = [
            "{ action: violate-zone, zone: 3 }",
            "{ panel: 2, action: arm, partitions: [1, 2], mode: 0 }",
            "{ panel: 2, action: violate-zone, zone: 1 }",
            "{ action: fly }",
            "{ panel: 9, action: violate-zone, zone: 1 }",
            "{ panel: 2, action: state }",
        ]
        try await control.send(bytes: Array((lines.joined(separator: "\n") + "\n").utf8))
        var text = ""
        while text.split(separator: "\n").count < lines.count {
            try await control.receiveSome()
            text = String(decoding: control.rawBytes, as: UTF8.self)
        }
        let replies = text.split(separator: "\n").map(String.init)
        #expect(replies[0] == "ok" && replies[1] == "ok" && replies[2] == "ok")
        #expect(replies[3].hasPrefix("error:") && replies[3].contains("unknown action 'fly'"))
        #expect(replies[4] == "error: no panel 9")
        #expect(replies[5].hasPrefix("state armed=[1,2] violated=[1] zoneAlarms=[1] partitionAlarms=[1]"))
        #expect(try await server.panels[0].inspect { $0.bitmaps[.zonesViolation]!.numbers } == [3])
        await control.close()
        await server.stop()
    }

    /// The fault mode of issue 21's fallbacks: commands named by code (hex or decimal) go unanswered.
    @Test func silentOnNamesTheCommandsTheModuleWillNotAnswer() throws {
        let command = try SimulatorControlCommand.parse(line: "{ panel: 2, action: silent-on, commands: [0x01, 28] }")
        guard case .perform(let action) = command.request else { Issue.record("\(command.request)"); return }
        #expect(command.panel == 2 && action == .setSilentCommands([0x01, 0x1C]))
        #expect(throws: SimulatorScenarioError.self) { try SimulatorControlCommand.parse(line: "{ action: silent-on, commands: [256] }") }
        #expect(throws: SimulatorScenarioError.self) { try SimulatorControlCommand.parse(line: "{ action: silent-on }") }
        var panel = SimulatedPanel(configuration: .default)
        panel.connectionOpened()
        _ = panel.apply(action, now: 0)
        #expect(panel.handle(.readState(.zonesTamper), now: 0).isEmpty)
        #expect(!panel.handle(.readState(.zonesViolation), now: 0).isEmpty)
    }

    /// `monitoring` sets how the module answers a monitoring request; the scenario's panel can start with one.
    @Test func monitoringSetsHowTheModuleAnswersAMonitoringRequest() throws {
        let command = try SimulatorControlCommand.parse(line: "{ panel: 1, action: monitoring, policy: refuse }")
        guard case .perform(let action) = command.request else { Issue.record("\(command.request)"); return }
        #expect(action == .setMonitoringPolicy(.refuse))
        #expect(throws: SimulatorScenarioError.self) { try SimulatorControlCommand.parse(line: "{ action: monitoring, policy: sometimes }") }
        #expect(throws: SimulatorScenarioError.self) { try SimulatorControlCommand.parse(line: "{ action: monitoring }") }
        let selection = NewDataFlags(commands: [0x00], byteCount: 6)
        var panel = SimulatedPanel(configuration: .default)
        panel.connectionOpened()
        _ = panel.apply(action, now: 0)
        #expect(panel.handle(.startMonitoring(selection), now: 0) == [.result(.otherError)])
        _ = panel.apply(.setMonitoringPolicy(.ignore), now: 0)
        #expect(panel.handle(.startMonitoring(selection), now: 0).isEmpty)
        _ = panel.apply(.setMonitoringPolicy(.stopPushing), now: 0)
        #expect(panel.handle(.startMonitoring(selection), now: 0).first == .result(.ok))
        #expect(panel.apply(.violateZone(1), now: 0).isEmpty, "no push")
        guard case .newData(let flags)? = panel.handle(.readNewData(answerLength: 6), now: 0).first else { Issue.record("no flags"); return }
        #expect(flags.contains(0x00), "flagged though not pushed")
        let scenario = try SimulatorScenario.parse(yaml: "panel:\n  monitoring: ignore\n")
        #expect(scenario.panel.monitoringPolicy == .ignore)
    }

    /// Issue 21 point 4's witness: the module counts clients connected at once; a second one (turned away with "Busy")
    /// makes that panel's peak 2, and `clients` sums the counters over every panel.
    @Test func clientsCountsPanelsThatEverHadTwoClientsAtOnce() async throws {
        let server = SimulatorServer(configuration: SimulatorConfiguration(port: 0, panelCount: 2, controlPort: 0))
        let ports = try await server.start()
        let controlPort = try #require(server.boundControlPort)
        var first = try await RawPanelConnection.connect(port: ports[1])
        try await first.send(.readIntegraVersion)
        _ = try await first.receive(items: 1)
        var second = try await RawPanelConnection.connect(port: ports[1])
        try await second.receiveSome()  // the banner
        await second.close()
        var alone = try await RawPanelConnection.connect(port: ports[0])
        try await alone.send(.readIntegraVersion)
        _ = try await alone.receive(items: 1)
        #expect(try await server.panels[1].statistics().peakConcurrentClients == 2)
        #expect(try await server.panels[0].statistics().peakConcurrentClients == 1)
        var control = try await RawPanelConnection.connect(port: controlPort)
        try await control.send(bytes: Array("{ panel: 0, action: clients }\n".utf8))
        while !String(decoding: control.rawBytes, as: UTF8.self).contains("\n") { try await control.receiveSome() }
        #expect(String(decoding: control.rawBytes, as: UTF8.self) == "clients accepted=2 refused=1 peak-above-1=1\n")
        await control.close()
        await first.close()
        await alone.close()
        await server.stop()
    }
}
