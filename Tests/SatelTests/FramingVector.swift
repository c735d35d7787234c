import Testing
@testable import Satel

/// A request/answer body and its full wire frame, as listed in protocol doc §1.5 (verified against four
/// independent implementations there).
struct FramingVector: CustomTestStringConvertible, Sendable {
    let name: String
    let body: [UInt8]
    let wire: [UInt8]

    init(_ name: String, body: String, wire: String) {
        self.name = name
        self.body = SatelHex.bytes(body)!
        self.wire = SatelHex.bytes(wire)!
    }

    var testDescription: String { name }

    var frame: SatelFrame {
        SatelFrame(command: body[0], data: Array(body.dropFirst()))
    }

    static let all: [FramingVector] = [
        .init("V1", body: "00", wire: "FE FE 00 D7 E2 FE 0D"),
        .init("V2", body: "00 00", wire: "FE FE 00 00 50 8A FE 0D"),
        .init("V3", body: "00 FF", wire: "FE FE 00 FF 51 89 FE 0D"),
        .init("V4", body: "E0 12 34 FF FF", wire: "FE FE E0 12 34 FF FF 8A 9B FE 0D"),
        .init("V5", body: "7E", wire: "FE FE 7E D8 60 FE 0D"),
        .init("V6", body: "7C", wire: "FE FE 7C D8 5E FE 0D"),
        .init("V7", body: "1A", wire: "FE FE 1A D7 FC FE 0D"),
        .init("V8", body: "09", wire: "FE FE 09 D7 EB FE 0D"),
        .init("V9 CRC high byte FE", body: "1C", wire: "FE FE 1C D7 FE F0 FE 0D"),
        .init("V10", body: "EE 01 01", wire: "FE FE EE 01 01 63 08 FE 0D"),
        .init("V11", body: "8C FF FF FF", wire: "FE FE 8C FF FF FF 40 43 FE 0D"),
        .init(
            "V12",
            body: "80 12 34 FF FF FF FF FF FF 01 00 00 00",
            wire: "FE FE 80 12 34 FF FF FF FF FF FF 01 00 00 00 9D 9E FE 0D"
        ),
        .init(
            "V13",
            body: "80 97 12 34 FF FF FF FF FF 03 00 00 10",
            wire: "FE FE 80 97 12 34 FF FF FF FF FF 03 00 00 10 64 15 FE 0D"
        ),
        .init("V14", body: "84 12 34 FF×6 01 00 00 00", wire: "FE FE 84 12 34 FF×6 01 00 00 00 E0 F1 FE 0D"),
        .init(
            "V15 data byte FE",
            body: "88 12 34 FF×6 FE 00×15",
            wire: "FE FE 88 12 34 FF×6 FE F0 00×15 47 7D FE 0D"
        ),
        .init("V16", body: "88 12 34 FF×6 FE 00×31", wire: "FE FE 88 12 34 FF×6 FE F0 00×31 87 B5 FE 0D"),
        .init(
            "V17",
            body: "7F 01 DE 99 0C 00 04 00 00 00 00 00 00",
            wire: "FE FE 7F 01 DE 99 0C 00 04 00 00 00 00 00 00 FF 10 FE 0D"
        ),
        .init("V18 CRC FE 8A", body: "7F FF FF FF FF FF FF", wire: "FE FE 7F FF FF FF FF FF FF FE F0 8A FE 0D"),
        .init("7F poll", body: "7F", wire: "FE FE 7F D8 61 FE 0D"),
        .init("7F 00", body: "7F 00", wire: "FE FE 7F 00 4F 8B FE 0D"),
        .init("EF 00", body: "EF 00", wire: "FE FE EF 00 4E AA FE 0D"),
        .init("EF FF", body: "EF FF", wire: "FE FE EF FF 4F A9 FE 0D"),
        .init("EF 01", body: "EF 01", wire: "FE FE EF 01 4E AB FE 0D"),
        .init("EF 08", body: "EF 08", wire: "FE FE EF 08 4E B2 FE 0D"),
        .init(
            "7E answer",
            body: "7E 43 31 32 33 32 30 31 32 30 35 32 37 01 FF",
            wire: "FE FE 7E 43 31 32 33 32 30 31 32 30 35 32 37 01 FF C3 3B FE 0D"
        ),
        .init(
            "7C answer",
            body: "7C 32 30 35 32 30 31 38 30 31 31 31 01",
            wire: "FE FE 7C 32 30 35 32 30 31 38 30 31 31 31 01 51 E7 FE 0D"
        ),
        .init(
            "1A answer",
            body: "1A 20 26 05 05 20 18 30 01 03",
            wire: "FE FE 1A 20 26 05 05 20 18 30 01 03 2D C2 FE 0D"
        ),
        .init("0A answer", body: "0A 01 00 00 00", wire: "FE FE 0A 01 00 00 00 7D BC FE 0D"),
        // The doc prints this one as `… 00…00(15) 00 01 2B …`; the CRC of the 16-byte bitmap is 01 2B, so the
        // extra `00` is a typo there.
        .init("00 answer zone 5", body: "00 10 00×15", wire: "FE FE 00 10 00×15 01 2B FE 0D"),
        .init("7D request", body: "7D 01", wire: "FE FE 7D 01 4F 90 FE 0D"),
        .init("7D answer", body: "7D 01 00 99", wire: "FE FE 7D 01 00 99 3E 57 FE 0D"),
        .init("8F request", body: "8F 87 FB", wire: "FE FE 8F 87 FB 61 76 FE 0D"),
        .init(
            "8E set clock",
            body: "8E 12 34 FF×6 32 30 32 36 30 35 30 35 32 30 31 38 33 30",
            wire: "FE FE 8E 12 34 FF×6 32 30 32 36 30 35 30 35 32 30 31 38 33 30 F3 1B FE 0D"
        ),
        .init(
            "86 bypass 1,3,62,120",
            body: "86 12 34 FF×6 05 00 00 00 00 00 00 20 00 00 00 00 00 00 80 00",
            wire: "FE FE 86 12 34 FF×6 05 00 00 00 00 00 00 20 00 00 00 00 00 00 80 00 38 09 FE 0D"
        ),
        .init("A0 force arm", body: "A0 12 34 FF×6 01 00 00 00", wire: "FE FE A0 12 34 FF×6 01 00 00 00 B7 A7 FE 0D"),
        .init("85 clear alarm", body: "85 12 34 FF×6 01 00 00 00", wire: "FE FE 85 12 34 FF×6 01 00 00 00 F1 41 FE 0D"),
        .init("91 switch output 1", body: "91 12 34 FF×6 01 00×15", wire: "FE FE 91 12 34 FF×6 01 00×15 48 C8 FE 0D"),
        // Captured from real panels (HA debug logs), §1.6.
        // The doc's hex has ten `20`s; the CRC 32 05 only matches the 16-byte name with nine (the
        // name field is 16 bytes), so one `20` was duplicated in transcription.
        .init(
            "field EE zone name",
            body: "EE 01 01 00 57 65 6A 73 63 69 65 20×9",
            wire: "FE FE EE 01 01 00 57 65 6A 73 63 69 65 20×9 32 05 FE 0D"
        ),
        .init(
            "field EE CP1250 name",
            body: "EE 01 01 00 44 72 7a 77 69 20 77 65 6a 9c 63 69 6f 77 65 20",
            wire: "fefeee01010044727a77692077656a9c63696f7765209cbdfe0d"
        ),
        .init("field pushed 10", body: "10 00 00 00 00", wire: "fefe10000000007e26fe0d"),
        .init("field pushed 13", body: "13 00 00 00 00", wire: "fefe13000000007e56fe0d"),
        .init(
            "field unsolicited 8C",
            body: "8C bf c5 54 c2 87 fb 03 01 03 58 96 03 50 96",
            wire: "fefe8cbfc554c287fb030103589603509639c0fe0d"
        ),
    ]
}
