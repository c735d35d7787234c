import NIOCore
import Testing
@testable import Satel
@testable import SatelSimulator

/// Every read command sent by the real client to the real simulator over TCP, answered in its own shape.
@Suite(.timeLimit(.minutes(1))) struct ReadCommandRoundTripTests {
    static var readRequests: [SatelRequest] {
        StateCommand.allCases.flatMap { command in
            [SatelRequest.readState(command)] + (command.objectKind.hasExtendedForm ? [.readState(command, extended: true)] : [])
        } + TroublePart.allCases.map { .readTroubles($0) } + [
            .readClockAndStatus, .readModuleVersion, .readIntegraVersion,
            .readNewData(answerLength: 5), .readNewData(answerLength: 6), .readNewData(answerLength: 7),
            .readZoneTemperature(zone: 1),
            .readDeviceName(.partition, number: 1), .readDeviceName(.zone, number: 200), .readDeviceName(.user, number: 1),
            .readDeviceName(.output, number: 256), .readDeviceName(.zoneWithPartition, number: 3),
            .readEvent(.newest), .readEvent(.newestGrade23),
            .readEventText(code: 130, restore: false, long: false), .readEventText(code: 401, restore: true, long: true),
        ]
    }

    @Test func everyReadIsAnsweredInItsOwnShape() async throws {
        var panel = SimulatedPanelConfiguration.standard(model: .integra256Plus, zoneCount: 256, partitionCount: 8, outputCount: 256)
        panel.zones[0].temperatureCelsius = 21.5
        try await ClientHarness.run(simulator: SimulatorConfiguration(port: 0, scenario: SimulatorScenario(panel: panel))) { harness in
            try await harness.waitForSynchronized()
            try await harness.panel.perform(.violateZone(250))
            try await harness.panel.perform(.logEvent(code: 130, restore: false, partition: 1, source: 250))
            for request in Self.readRequests {
                let response = try await harness.client.send(request)
                switch (request, response) {
                case (.readState(let asked, let extended), .state(let answered, let bitmap)):
                    #expect(asked == answered)
                    let expectedLength = asked.objectKind.hasExtendedForm ? (extended ? 32 : 16) : asked.objectKind.standardBitmapLength
                    #expect(bitmap.bytes.count == expectedLength, "\(asked.name)")
                    if asked == .zonesViolation { #expect(bitmap.numbers == (extended ? [250] : [])) }
                case (.readTroubles(let asked), .troubles(let answered, let bytes)):
                    #expect(asked == answered && bytes.count == asked.answerLength)
                case (.readClockAndStatus, .clockAndStatus(let status)):
                    #expect(status.panelBaseType == 8)
                case (.readModuleVersion, .moduleVersion(let version)):
                    #expect(version.supports32ByteLists)
                case (.readIntegraVersion, .integraVersion(let version)):
                    #expect(version.model == .integra256Plus)
                case (.readNewData(let length), .newData(let flags)):
                    #expect(flags.bytes.count == length)
                case (.readZoneTemperature(let zone), .zoneTemperature(let temperature)):
                    #expect(temperature.zone == zone && temperature.celsius == 21.5)
                case (.readDeviceName(let kind, let number), .deviceName(let name)):
                    #expect(name.kind == kind && name.number == number)
                case (.readEvent(let index), .event(let answer)):
                    #expect(answer.requestedIndex == index)
                    #expect(answer.record.isPresent == (index == .newest))
                    if index == .newest { #expect(answer.record.code == 130 && answer.record.source == 250) }
                case (.readEventText(let code, let restore, let long), .eventText(let text)):
                    #expect(text.code == code && text.restore == restore && text.long == long)
                    #expect(text.rawText.count == (long ? 46 : 16))
                default:
                    Issue.record("\(request) was answered with \(response)")
                }
            }
            // A name that does not exist is answered with EF 08, as real panels are reported to.
            #expect(try await harness.client.send(.readDeviceName(.partition, number: 30)) == .result(.otherError))
        }
    }

    @Test func monitoringModePushesReachTheClientSnapshot() async throws {
        try await ClientHarness.run { harness in
            try await harness.waitForSynchronized()
            let selection = NewDataFlags(commands: [0x00, 0x17], byteCount: 6)
            #expect(try await harness.client.send(.startMonitoring(selection)) == .result(.ok))
            try await harness.panel.perform(.setOutput(3, on: true))
            try await harness.waitForSnapshot { $0.objects(.outputsState) == [3] }
        }
    }
}
