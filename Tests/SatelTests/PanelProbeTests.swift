import Foundation
import NIOCore
import NIOPosix
import Testing
@testable import Satel
@testable import SatelSimulator

/// The installer's probe against the real simulator over TCP.
@Suite(.timeLimit(.minutes(1))) struct PanelProbeTests {
    static func withSimulator(
        _ configuration: SimulatorConfiguration = SimulatorConfiguration(port: 0),
        _ body: (SimulatorServer, Int) async throws -> Void
    ) async throws {
        let server = SimulatorServer(configuration: configuration)
        let ports = try await server.start()
        do {
            try await body(server, ports[0])
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    @Test func reportsModelStateTroublesAndNewestEvents() async throws {
        try await Self.withSimulator { server, port in
            let panel = server.panels[0]
            for source in 1...12 {
                try await panel.perform(.logEvent(code: 999, restore: false, partition: 1, source: source))
            }
            try await panel.perform(.armAtKeypad(partitions: [2], mode: .mode2, user: 1))
            try await panel.perform(.violateZone(3))
            try await panel.perform(.violateZone(10))
            try await panel.perform(.setOutput(5, on: true))
            try await panel.perform(.setTrouble(.part1, bit: 40 * 8 + 8, active: true))
            let report = try await PanelProbe.run(PanelProbeOptions(host: "127.0.0.1", port: port, eventCount: 5))
            #expect(report.model == "INTEGRA 128" && report.typeCode == 3)
            #expect(report.capacities.zones == 128 && report.capacities.partitions == 32)
            #expect(report.violatedZones == [.init(number: 3, name: "Zone 3"), .init(number: 10, name: "Zone 10")])
            #expect(report.zonesInAlarm.map(\.number) == [10])
            #expect(report.armedPartitions == [.init(number: 2, name: "Partition 2", mode: 2, modeName: "mode 2")])
            #expect(report.partitionsInAlarm.map(\.number) == [2])
            #expect(report.outputsOn == [.init(number: 5, name: "Output 5")])
            #expect(report.troubles.systemTroubles == ["AC trouble"])
            // Newest first: the alarm (130), the arming (401), then the last three logged records.
            #expect(report.events.map(\.code) == [130, 401, 999, 999, 999])
            #expect(report.events.first?.description == "burglary alarm")
            #expect(report.events.last?.source == 10)
            let text = PanelProbeRenderer.text(report)
            #expect(text.contains("violated zones:   3 (Zone 3), 10 (Zone 10)"))
            #expect(text.contains("armed partitions: 2 (Partition 2) mode 2"))
            let json = try PanelProbeRenderer.json(report)
            #expect(try JSONDecoder().decode(PanelProbeReport.self, from: Data(json.utf8)) == report)
            // The probe disconnects: the slot is free for the next client.
            let statistics = try await panel.statistics()
            #expect(statistics.connectionsAccepted == 1)
        }
    }

    /// Issue 21 point 2, the installer's case: a module that stays silent on zones tamper (older firmware). The
    /// probe asks twice, carries on, prints everything it read and says what was not served, in text and JSON.
    @Test func aReadTheModuleDoesNotAnswerIsListedAndTheRestIsReported() async throws {
        try await Self.withSimulator { server, port in
            let panel = server.panels[0]
            try await panel.perform(.setSilentCommands([StateCommand.zonesTamper.rawValue]))
            try await panel.perform(.violateZone(3))
            try await panel.perform(.armAtKeypad(partitions: [1], mode: .mode0, user: 1))
            let report = try await PanelProbe.run(PanelProbeOptions(host: "127.0.0.1", port: port, eventCount: 3, requestTimeout: .milliseconds(500)))
            #expect(report.notServed == [.init(code: 0x01, command: StateCommand.zonesTamper.name, reason: "unanswered")])
            #expect(report.violatedZones.map(\.number) == [3])
            #expect(report.armedPartitions.map(\.number) == [1])
            #expect(!report.events.isEmpty, "the event log was read too")
            let text = PanelProbeRenderer.text(report)
            #expect(text.contains("not served:       \(StateCommand.zonesTamper.name) (0x01, unanswered)"), "\(text)")
            let json = try PanelProbeRenderer.json(report)
            #expect(json.contains("\"notServed\""))
            #expect(try JSONDecoder().decode(PanelProbeReport.self, from: Data(json.utf8)) == report)
        }
    }

    @Test func aBusyModuleIsReportedAsBusy() async throws {
        try await Self.withSimulator { _, port in
            var holder = try await RawPanelConnection.connect(port: port)
            try await holder.send(.readIntegraVersion)
            _ = try await holder.receive(items: 1)
            await #expect {
                _ = try await PanelProbe.run(PanelProbeOptions(host: "127.0.0.1", port: port))
            } throws: { error in
                (error as? PanelProbeFailure)?.reason == .busy
            }
            await holder.close()
        }
    }

    @Test func aClosedPortIsUnreachable() async throws {
        // A port bound but never listened on: connects are refused, and no other test can take the port
        // while we hold it (releasing a port first races with parallel tests that grab free ports).
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        try #require(bound)
        let port = Int(UInt16(bigEndian: address.sin_port))
        await #expect {
            _ = try await PanelProbe.run(PanelProbeOptions(host: "127.0.0.1", port: port))
        } throws: { error in
            guard let failure = error as? PanelProbeFailure else { return false }
            return failure.reason == .unreachable && failure.exitStatus == 1 && failure.plainReason.hasPrefix("unreachable")
        }
    }

    @Test func aSilentModuleIsNoAnswer() async throws {
        try await Self.withSimulator { server, port in
            try await server.panels[0].perform(.setAnswering(false))
            await #expect {
                _ = try await PanelProbe.run(PanelProbeOptions(host: "127.0.0.1", port: port, requestTimeout: .milliseconds(300)))
            } throws: { error in
                (error as? PanelProbeFailure)?.reason == .noAnswer
            }
        }
    }

    @Test func theCommandEntryPointReturnsTheExitStatus() async throws {
        try await Self.withSimulator { _, port in
            #expect(await PanelProbeCommand.run(host: "127.0.0.1", port: port, events: 2, json: true) == 0)
        }
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = listener.localAddress!.port!
        try await listener.close()
        #expect(await PanelProbeCommand.run(host: "127.0.0.1", port: port) == 1)
    }

    @Test func failuresRenderAsPlainReasons() throws {
        let failure = PanelProbeFailure(reason: .busy, detail: "x")
        #expect(PanelProbeRenderer.text(failure) == "probe failed: busy with another client: the module allows one integration client at a time\n")
        #expect(try PanelProbeRenderer.json(failure).contains("\"reason\" : \"busy\""))
    }
}
