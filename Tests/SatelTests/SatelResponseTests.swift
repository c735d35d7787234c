import Testing
@testable import Satel

@Suite struct SatelResponseTests {
    static func response(_ wire: String) throws -> SatelResponse {
        var harness = DecoderHarness()
        try harness.feed(SatelHex.bytes(wire)!)
        return try SatelResponse(frame: try #require(harness.frames.first))
    }

    @Test func integraVersionIdentifiesThe128Plus() throws {
        let response = try Self.response("FE FE 7E 43 31 32 33 32 30 31 32 30 35 32 37 01 FF C3 3B FE 0D")
        guard case .integraVersion(let version) = response else { Issue.record("got \(response)"); return }
        #expect(version.model == .integra128Plus)
        #expect(version.firmware.display == "1.23 2012-05-27")
        #expect(version.languageCode == 1)
        #expect(version.settingsInFlash)
    }

    @Test func moduleVersionCarriesTheCapabilities() throws {
        let response = try Self.response("FE FE 7C 32 30 35 32 30 31 38 30 31 31 31 01 51 E7 FE 0D")
        guard case .moduleVersion(let version) = response else { Issue.record("got \(response)"); return }
        #expect(version.firmware.display == "2.05 2018-01-11")
        #expect(version.supports32ByteLists)
        #expect(!version.supportsTroublesPart8)
    }

    @Test func clockAndStatusDecodes() throws {
        let response = try Self.response("FE FE 1A 20 26 05 05 20 18 30 01 03 2D C2 FE 0D")
        guard case .clockAndStatus(let status) = response else { Issue.record("got \(response)"); return }
        #expect(status.display == "2026-05-05 20:18:30")
        #expect(status.dayOfWeek == 1)
        #expect(status.panelBaseType == 3)
        #expect(SatelResponse.clockAndStatus(status).frame.wireBytes == SatelHex.bytes("FE FE 1A 20 26 05 05 20 18 30 01 03 2D C2 FE 0D"))
    }

    @Test func zoneBitmapsComeIn16And32Bytes() throws {
        #expect(try Self.response("FE FE 00 10 00×15 01 2B FE 0D") == .state(.zonesViolation, ObjectBitmap(numbers: [5], byteCount: 16)))
        let wide = SatelResponse.state(.zonesViolation, ObjectBitmap(numbers: [4, 100, 256], byteCount: 32))
        #expect(try SatelResponse(frame: wide.frame) == wide)
        #expect(try Self.response("FE FE 0A 01 00 00 00 7D BC FE 0D") == .state(.partitionsArmed, ObjectBitmap(numbers: [1], byteCount: 4)))
    }

    @Test func aPartitionBitmapOfTheWrongLengthIsAnError() {
        #expect(throws: SatelMessageError.self) {
            try SatelResponse(frame: SatelFrame(command: 0x0A, data: [UInt8](repeating: 0, count: 16)))
        }
    }

    @Test func temperatureDecodes() throws {
        let response = try Self.response("FE FE 7D 01 00 99 3E 57 FE 0D")
        #expect(response == .zoneTemperature(ZoneTemperature(zone: 1, raw: 0x99)))
        #expect(ZoneTemperature(zone: 1, raw: 0x99).celsius == 21.5)
        #expect(ZoneTemperature(zone: 1, raw: 0x6E).celsius == 0)
        #expect(ZoneTemperature(zone: 1, raw: 0xFFFF).celsius == nil)
    }

    @Test func deviceNamesDecodeCP1250() throws {
        let response = try Self.response("fefeee01010044727a77692077656a9c63696f7765209cbdfe0d")
        guard case .deviceName(let name) = response else { Issue.record("got \(response)"); return }
        #expect(name.kind == .zone)
        #expect(name.number == 1)
        #expect(name.name == "Drzwi wejściowe")
    }

    @Test func realPanelEventRecordDecodes() throws {
        let response = try Self.response("fefe8cbfc554c287fb030103589603509639c0fe0d")
        guard case .event(let answer) = response else { Issue.record("got \(response)"); return }
        let record = answer.record
        #expect(record.isPresent && record.hasEvent)
        #expect(record.year(near: 2026) == 2026)
        #expect(record.month == 5 && record.day == 5 && record.hour == 20 && record.minute == 18)
        #expect(record.eventClass == .userFunctions)
        #expect(record.monitoringStation1 == .notMonitored && record.monitoringStation2 == .notMonitored)
        #expect(record.partitionField == 16)
        #expect(record.isRestore)
        #expect(record.code == 1019)
        #expect(record.source == 3 && record.object == 0 && record.userControlNumber == 1)
        #expect(answer.index == EventLogIndex(rawValue: 0x035896))
        #expect(answer.requestedIndex == EventLogIndex(rawValue: 0x035096))
        #expect(record.descriptionText == "remote key fob used")
    }

    @Test func integraPyEventRecordDecodes() throws {
        let data = SatelHex.bytes("7f 98 83 13 5d a6 0a 02 06 68 de ff ff ff")!
        let answer = try #require({ () throws -> EventLogAnswer? in
            if case .event(let answer) = try SatelResponse(frame: SatelFrame(command: 0x8C, data: data)) { return answer }
            return nil
        }())
        let record = answer.record
        #expect(record.year(near: 2017) == 2017)
        #expect(record.month == 8 && record.day == 24 && record.hour == 13 && record.minute == 7)
        #expect(record.eventClass == .accessControl)
        #expect(record.partitionField == 11 && record.isRestore && record.code == 422)
        #expect(record.source == 10 && record.userControlNumber == 2)
        #expect(answer.index == EventLogIndex(rawValue: 0x0668DE) && answer.requestedIndex == .newest)
    }

    @Test func recordsBuiltFromFieldsReadBack() {
        let record = EventRecord(
            yearModulo4: 2, month: 11, day: 29, minuteOfDay: 1439, eventClass: .zoneAndTamperAlarms, partitionField: 3,
            restore: false, code: 130, source: 17, object: 5, userControlNumber: 31)
        #expect(record.yearModulo4 == 2 && record.month == 11 && record.day == 29 && record.minuteOfDay == 1439)
        #expect(record.eventClass == .zoneAndTamperAlarms && record.partitionField == 3 && !record.isRestore)
        #expect(record.code == 130 && record.source == 17 && record.object == 5 && record.userControlNumber == 31)
        #expect(!EventRecord.empty.isPresent)
        // A record built from the wrong number of bytes is normalised, never a crash.
        #expect(EventRecord(raw: [0x20]).raw == [0x20, 0, 0, 0, 0, 0, 0, 0])
        #expect(EventRecord(raw: [UInt8](repeating: 1, count: 12)).raw.count == 8)
    }

    @Test(arguments: [
        (UInt8(0x00), "OK", true), (0x01, "requesting user code not found", false), (0x02, "no access", false),
        (0x03, "selected user does not exist", false), (0x04, "selected user already exists", false),
        (0x05, "wrong code or code already exists", false), (0x06, "telephone code already exists", false),
        (0x07, "changed code is the same", false), (0x08, "other error", false),
        (0x11, "cannot arm, but force arm is possible", false), (0x12, "cannot arm", false),
        (0x85, "other error (0x85)", false), (0xFF, "command accepted, will be processed", true),
    ])
    func resultCodesHaveTheirMeaning(raw: UInt8, meaning: String, success: Bool) throws {
        let response = try SatelResponse(frame: SatelFrame(command: 0xEF, data: [raw]))
        #expect(response == .result(ResultCode(rawValue: raw)))
        #expect(ResultCode(rawValue: raw).meaning == meaning)
        #expect(ResultCode(rawValue: raw).isSuccess == success)
    }

    static let roundTrips: [SatelResponse] = [
        .newData(NewDataFlags(bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])),
        .troubles(.part1, [UInt8](repeating: 0, count: 47)),
        .eventText(EventText(code: 130, restore: false, long: false, longDescriptionKind: 1, shortDescriptionKind: 0x0102,
                             rawText: Array("Burglary alarm  ".utf8))),
        .eventText(EventText(code: 401, restore: true, long: true, longDescriptionKind: 2, shortDescriptionKind: 0,
                             rawText: Array("Arm by user".utf8))),
        .deviceName(DeviceName(kind: .zoneWithPartition, number: 3, function: 1, rawName: Array("Kitchen".utf8), extra: 2)),
        .integraVersion(IntegraVersion(typeCode: 72, firmware: FirmwareVersion(raw: "12320120527"), languageCode: 0, settingsInFlash: true)),
        .moduleVersion(ModuleVersion(firmware: FirmwareVersion(raw: "20520180111"), capabilities: 7)),
    ]

    @Test(arguments: roundTrips)
    func responsesRoundTripThroughTheirFrames(_ response: SatelResponse) throws {
        #expect(try SatelResponse(frame: response.frame) == response)
    }

    @Test func newDataFlagsListCommands() {
        let flags = NewDataFlags(bytes: SatelHex.bytes("01 DE 99 0C 00 04")!)
        #expect(flags.commands == [0x00, 0x09, 0x0A, 0x0B, 0x0C, 0x0E, 0x0F, 0x10, 0x13, 0x14, 0x17, 0x1A, 0x1B, 0x2A])
    }

    @Test func troubleReportNamesSystemTroubles() {
        var part1 = [UInt8](repeating: 0, count: 47)
        part1[0] = 0x02
        part1[40] = 0x80
        part1[42] = 0x80
        let report = TroubleReport(parts: [.part1: part1, .part2: [0, 1]])
        #expect(report.technicalZones == [2])
        #expect(report.systemTroubles == ["AC trouble", "main panel restart memory"])
        #expect(report.otherTroubleBits == ["troubles part 2": 1])
    }

    @Test func modelsAreFoundByNameOrCode() {
        #expect(PanelModel.named("128") == .integra128)
        #expect(PanelModel.named("INTEGRA 256 Plus") == .integra256Plus)
        #expect(PanelModel.named("72") == .integra256Plus)
        #expect(PanelModel.named("nonsense") == nil)
    }
}
