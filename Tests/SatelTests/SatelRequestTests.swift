import Testing
@testable import Satel

@Suite struct SatelRequestTests {
    static let code1234 = UserCode("1234")!

    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let request: SatelRequest
        let wire: String
        var testDescription: String { name }
    }

    /// Typed requests that must produce the doc's framed bytes exactly (§1.5).
    static let vectors: [Case] = [
        Case(name: "V1 zones violation", request: .readState(.zonesViolation), wire: "FE FE 00 D7 E2 FE 0D"),
        Case(name: "V2 32-byte form", request: .readState(.zonesViolation, extended: true), wire: "FE FE 00 00 50 8A FE 0D"),
        Case(name: "V5", request: .readIntegraVersion, wire: "FE FE 7E D8 60 FE 0D"),
        Case(name: "V6", request: .readModuleVersion, wire: "FE FE 7C D8 5E FE 0D"),
        Case(name: "V7", request: .readClockAndStatus, wire: "FE FE 1A D7 FC FE 0D"),
        Case(name: "V8", request: .readState(.partitionsArmedSuppressed), wire: "FE FE 09 D7 EB FE 0D"),
        Case(name: "V9", request: .readTroubles(.part2), wire: "FE FE 1C D7 FE F0 FE 0D"),
        Case(name: "V10", request: .readDeviceName(.zone, number: 1), wire: "FE FE EE 01 01 63 08 FE 0D"),
        Case(name: "V11", request: .readEvent(.newest), wire: "FE FE 8C FF FF FF 40 43 FE 0D"),
        Case(
            name: "V12 arm",
            request: .control(.arm(mode: .mode0, partitions: ObjectBitmap(numbers: [1], byteCount: 4)), code: code1234),
            wire: "FE FE 80 12 34 FF FF FF FF FF FF 01 00 00 00 9D 9E FE 0D"),
        Case(
            name: "V13 prefix",
            request: .control(
                .arm(mode: .mode0, partitions: ObjectBitmap(numbers: [1, 2, 29], byteCount: 4)),
                code: UserCode("1234", prefix: "97")!),
            wire: "FE FE 80 97 12 34 FF FF FF FF FF 03 00 00 10 64 15 FE 0D"),
        Case(
            name: "V14 disarm",
            request: .control(.disarm(partitions: ObjectBitmap(numbers: [1], byteCount: 4)), code: code1234),
            wire: "FE FE 84 12 34 FF×6 01 00 00 00 E0 F1 FE 0D"),
        Case(
            name: "V15 outputs on 16",
            request: .control(.outputsOn(ObjectBitmap(numbers: 2...8, byteCount: 16)), code: code1234),
            wire: "FE FE 88 12 34 FF×6 FE F0 00×15 47 7D FE 0D"),
        Case(
            name: "V16 outputs on 32",
            request: .control(.outputsOn(ObjectBitmap(numbers: 2...8, byteCount: 32)), code: code1234),
            wire: "FE FE 88 12 34 FF×6 FE F0 00×31 87 B5 FE 0D"),
        Case(
            name: "V17 monitoring",
            request: .startMonitoring(
                NewDataFlags(
                    commands: [0x00, 0x09, 0x0A, 0x0B, 0x0C, 0x0E, 0x0F, 0x10, 0x13, 0x14, 0x17, 0x1A, 0x1B, 0x2A],
                    byteCount: 6)),
            wire: "FE FE 7F 01 DE 99 0C 00 04 00 00 00 00 00 00 FF 10 FE 0D"),
        Case(name: "7F poll", request: .readNewData(answerLength: 5), wire: "FE FE 7F D8 61 FE 0D"),
        Case(name: "7F 00", request: .readNewData(answerLength: 6), wire: "FE FE 7F 00 4F 8B FE 0D"),
        Case(name: "7D zone 1", request: .readZoneTemperature(zone: 1), wire: "FE FE 7D 01 4F 90 FE 0D"),
        Case(name: "8F text", request: .readEventText(code: 1019, restore: true, long: true), wire: "FE FE 8F 87 FB 61 76 FE 0D"),
        Case(
            name: "8E set clock",
            request: .control(
                .setClock(ClockSetting(year: 2026, month: 5, day: 5, hour: 20, minute: 18, second: 30)), code: code1234),
            wire: "FE FE 8E 12 34 FF×6 32 30 32 36 30 35 30 35 32 30 31 38 33 30 F3 1B FE 0D"),
        Case(
            name: "86 bypass",
            request: .control(.bypassZones(ObjectBitmap(numbers: [1, 3, 62, 120], byteCount: 16)), code: code1234),
            wire: "FE FE 86 12 34 FF×6 05 00 00 00 00 00 00 20 00 00 00 00 00 00 80 00 38 09 FE 0D"),
        Case(
            name: "A0 force arm",
            request: .control(
                .arm(mode: .mode0, partitions: ObjectBitmap(numbers: [1], byteCount: 4), force: true), code: code1234),
            wire: "FE FE A0 12 34 FF×6 01 00 00 00 B7 A7 FE 0D"),
        Case(
            name: "85 clear alarm",
            request: .control(.clearAlarm(partitions: ObjectBitmap(numbers: [1], byteCount: 4)), code: code1234),
            wire: "FE FE 85 12 34 FF×6 01 00 00 00 F1 41 FE 0D"),
        Case(
            name: "91 switch",
            request: .control(.outputsSwitch(ObjectBitmap(numbers: [1], byteCount: 16)), code: code1234),
            wire: "FE FE 91 12 34 FF×6 01 00×15 48 C8 FE 0D"),
    ]

    @Test(arguments: vectors)
    func encodesToTheDocumentedFrame(_ vector: Case) {
        #expect(vector.request.frame.wireBytes == SatelHex.bytes(vector.wire))
    }

    @Test(arguments: vectors)
    func decodesBackToTheSameRequest(_ vector: Case) throws {
        #expect(try SatelRequest(frame: vector.request.frame) == vector.request)
    }

    static let everyOtherRequest: [SatelRequest] = StateCommand.allCases.flatMap { state in
        [SatelRequest.readState(state)] + (state.objectKind.hasExtendedForm ? [.readState(state, extended: true)] : [])
    } + TroublePart.allCases.map { .readTroubles($0) } + ArmMode.allCases.flatMap { mode in
        [false, true].flatMap { force in
            [false, true].map { flag in
                SatelRequest.control(
                    .arm(mode: mode, partitions: ObjectBitmap(numbers: [2, 32], byteCount: 4), force: force,
                         withoutBypassAndDelay: flag), code: code1234)
            }
        }
    } + [
        .readNewData(answerLength: 7),
        .readEvent(EventLogIndex(rawValue: 0x0668DE)),
        .readEvent(.newestGrade23),
        .readZoneTemperature(zone: 256),
        .readDeviceName(.output, number: 256),
        .control(.unbypassZones(ObjectBitmap(numbers: [200], byteCount: 32)), code: code1234),
        .control(.isolateZones(ObjectBitmap(numbers: [5], byteCount: 16)), code: code1234),
        .control(.outputsOff(ObjectBitmap(numbers: [3], byteCount: 16)), code: code1234),
        .control(.openDoors(ObjectBitmap(numbers: [1], byteCount: 8)), code: code1234),
        .control(.clearTroubleMemory, code: UserCode("87654321", prefix: "12345678")!),
        .startMonitoring(NewDataFlags(commands: [0x00, 0x30], byteCount: 7)),
    ]

    @Test(arguments: everyOtherRequest)
    func everyRequestRoundTripsThroughItsFrame(_ request: SatelRequest) throws {
        let decoded = try SatelRequest(frame: request.frame)
        #expect(decoded == request)
        #expect(decoded.frame == request.frame)
    }

    @Test func userCodeEncodingFollowsTheDoc() throws {
        #expect(UserCode("1234")!.encoded == SatelHex.bytes("12 34 FF FF FF FF FF FF"))
        #expect(UserCode("12347")!.encoded == SatelHex.bytes("12 34 7F FF FF FF FF FF"))
        #expect(UserCode("1234", prefix: "97")!.encoded == SatelHex.bytes("97 12 34 FF FF FF FF FF"))
        #expect(UserCode("12a4") == nil)
        #expect(UserCode("") == nil)
        #expect(UserCode("12345678901234567") == nil)
        #expect(try UserCode(encoded: SatelHex.bytes("12 34 7F FF FF FF FF FF")!).digitString == "12347")
        #expect(throws: UserCodeError.self) { try UserCode(encoded: SatelHex.bytes("12 F4 FF FF FF FF FF FF")!) }
        #expect("\(UserCode("1234")!)".contains("1234") == false)
    }

    @Test func bitmapsFollowTheDocExamples() {
        #expect(ObjectBitmap(numbers: [1, 2, 29], byteCount: 4).bytes == SatelHex.bytes("03 00 00 10"))
        let zones = ObjectBitmap(bytes: SatelHex.bytes("05 00 00 00 00 00 00 20 00 00 00 00 00 00 80 00")!)
        #expect(zones.numbers == [1, 3, 62, 120])
        #expect(zones.resized(to: 32).numbers == [1, 3, 62, 120])
        #expect(ObjectBitmap(numbers: [256, 257, 0], byteCount: 32).numbers == [256])
    }

    @Test(arguments: [
        ("FE FE 7F 05 05 05 FE 0D", SatelMessageError.Code.unexpectedLength),
        ("FE FE 8C 01 FE 0D", .unexpectedLength),
        ("FE FE 80 12 34 FE 0D", .unexpectedLength),
        ("FE FE 84 1A 34 FF FF FF FF FF FF 01 00 00 00 FE 0D", .invalidField),
        ("FE FE 55 FE 0D", .unknownCommand),
        ("FE FE 8E 12 34 FF FF FF FF FF FF 32 30 32 36 31 33 30 35 32 30 31 38 33 30 FE 0D", .invalidField),
    ])
    func malformedRequestsAreErrorsWithTheirBytes(body: String, code: SatelMessageError.Code) throws {
        // Build the frame from the body between the markers (the CRC is not part of the test strings).
        let bytes = SatelHex.bytes(body)!.dropFirst(2).dropLast(2)
        let frame = SatelFrame(command: bytes.first!, data: Array(bytes.dropFirst()))
        #expect {
            _ = try SatelRequest(frame: frame)
        } throws: { error in
            guard let error = error as? SatelMessageError else { return false }
            return error.code == code && error.bytes == Array(bytes)
        }
    }
}
