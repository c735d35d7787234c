import NIOCore
import Testing
@testable import Satel
@testable import SatelSimulator

/// The simulator over real TCP on loopback, on ports the system picks.
@Suite(.timeLimit(.minutes(1))) struct SimulatorServerTests {
    static func withSimulator(
        _ configuration: SimulatorConfiguration = SimulatorConfiguration(port: 0),
        _ body: (SimulatorServer, [Int]) async throws -> Void
    ) async throws {
        let server = SimulatorServer(configuration: configuration)
        let ports = try await server.start()
        do {
            try await body(server, ports)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    @Test func answersRequestsOverTCP() async throws {
        try await Self.withSimulator { _, ports in
            var connection = try await RawPanelConnection.connect(port: ports[0])
            try await connection.send(.readIntegraVersion)
            try await connection.send(.readNewData(answerLength: 6))
            _ = try await connection.receive(items: 2)
            let responses = try connection.responses
            guard case .integraVersion(let version) = responses.first else { Issue.record("got \(responses)"); return }
            #expect(version.model == .integra128)
            #expect(responses.last == .newData(NewDataFlags(bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])))
            await connection.close()
        }
    }

    @Test func aSecondClientGetsTheBusyBannerAndIsClosed() async throws {
        try await Self.withSimulator { server, ports in
            var first = try await RawPanelConnection.connect(port: ports[0])
            try await first.send(.readIntegraVersion)
            _ = try await first.receive(items: 1)
            var second = try await RawPanelConnection.connect(port: ports[0])
            try await second.receiveUntilClosed()
            #expect(second.rawBytes == BusyBanner.bytes)
            // The first client is undisturbed.
            try await first.send(.readModuleVersion)
            _ = try await first.receive(items: 2)
            #expect(first.closedByPeer == false)
            let statistics = try await server.panels[0].statistics()
            #expect(statistics.connectionsRefused == 1)
            await first.close()
        }
    }

    @Test func theSlotIsFreeAgainAfterTheClientLeaves() async throws {
        try await Self.withSimulator { server, ports in
            let first = try await RawPanelConnection.connect(port: ports[0])
            await first.close()
            // The module frees the slot once it has seen the close; until then a reconnect is refused.
            var answered: [SatelResponse] = []
            while answered.isEmpty {
                var next = try await RawPanelConnection.connect(port: ports[0])
                // Refused while the slot is still taken: the module closes at once, so sending may fail.
                if (try? await next.send(.readIntegraVersion)) != nil, (try? await next.receive(items: 1)) != nil {
                    answered = (try? next.responses) ?? []
                }
                await next.close()
                if answered.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
            }
            guard case .integraVersion = answered.first else { Issue.record("got \(answered)"); return }
        }
    }

    @Test func anIdleClientIsDisconnected() async throws {
        try await Self.withSimulator(SimulatorConfiguration(port: 0, idleTimeout: .milliseconds(200))) { server, ports in
            var connection = try await RawPanelConnection.connect(port: ports[0])
            try await connection.receiveUntilClosed()
            #expect(connection.rawBytes.isEmpty)
            #expect(try await server.panels[0].statistics().idleDisconnects == 1)
        }
    }

    @Test func malformedFramesAreDroppedSilentlyAndCounted() async throws {
        try await Self.withSimulator { server, ports in
            var connection = try await RawPanelConnection.connect(port: ports[0])
            try await connection.send(bytes: SatelHex.bytes("FE FE 7E D8 61 FE 0D 11 22")!)
            try await connection.send(.readModuleVersion)
            _ = try await connection.receive(items: 1)
            guard case .moduleVersion = try connection.responses.first else { Issue.record("no answer"); return }
            #expect(try await server.panels[0].statistics().malformedFrames == 2)
            await connection.close()
        }
    }

    @Test func monitoringPushesChangesByItself() async throws {
        try await Self.withSimulator { server, ports in
            var connection = try await RawPanelConnection.connect(port: ports[0])
            try await connection.send(.startMonitoring(NewDataFlags(commands: [0x00, 0x13], byteCount: 6)))
            _ = try await connection.receive(items: 3)
            #expect(try connection.responses == [
                .result(.ok), .state(.zonesViolation, ObjectBitmap(byteCount: 16)), .state(.partitionsAlarm, ObjectBitmap(byteCount: 4)),
            ])
            try await server.panels[0].perform(.violateZone(7))
            _ = try await connection.receive(items: 4)
            #expect(try connection.responses.last == .state(.zonesViolation, ObjectBitmap(numbers: [7], byteCount: 16)))
            await connection.close()
        }
    }

    @Test func manyPanelsListenOnConsecutivePorts() async throws {
        try await Self.withSimulator(SimulatorConfiguration(port: 0, panelCount: 3)) { server, ports in
            #expect(ports.count == 3 && Set(ports).count == 3)
            try await server.panels[1].perform(.violateZone(2))
            var connection = try await RawPanelConnection.connect(port: ports[1])
            try await connection.send(.readState(.zonesViolation))
            _ = try await connection.receive(items: 1)
            #expect(try connection.responses == [.state(.zonesViolation, ObjectBitmap(numbers: [2], byteCount: 16))])
            await connection.close()
        }
    }

    @Test func scenarioStepsRunOnTheirTimeline() async throws {
        let scenario = try SimulatorScenario.parse(yaml: """
            panel:
              model: INTEGRA 256 Plus
              zones: 40
              partitions: 2
              users:
                - { number: 3, code: "4321", partitions: [1], rights: [arm, disarm] }
              zoneSettings:
                - { number: 3, name: Front door, reaction: burglary }
            steps:
              - { at: 50ms, action: violate-zone, zone: 3 }
              - { at: 0.1, action: output, output: 2, on: true }
            """)
        #expect(scenario.panel.model == .integra256Plus)
        #expect(scenario.panel.zones.count == 40 && scenario.panel.partitionNames.count == 2)
        #expect(scenario.panel.users.map(\.code) == ["4321"])
        #expect(scenario.panel.zones[2].name == "Front door")
        try await Self.withSimulator(SimulatorConfiguration(port: 0, scenario: scenario)) { server, _ in
            let panel = server.panels[0]
            while try await panel.inspect({ $0.bitmaps[.outputsState]!.isEmpty }) {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(try await panel.inspect { $0.bitmaps[.zonesViolation]!.numbers } == [3])
        }
    }

    @Test(arguments: [
        "steps:\n  - { at: 1s, action: fly }",
        "steps:\n  - { at: 1s, action: violate-zone }",
        "panel:\n  model: INTEGRA 9000",
        "steps:\n  - { at: soon, action: violate-zone, zone: 1 }",
    ])
    func badScenariosAreReported(yaml: String) {
        #expect(throws: SimulatorScenarioError.self) { try SimulatorScenario.parse(yaml: yaml) }
    }
}
