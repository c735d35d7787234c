import Foundation
import Sms
import Testing

/// The simulator's encoder against the decoder: every kind of text and sender comes back as it went in.
@Suite struct PduRoundTripTests {
    static let texts: [(String, SmsDataCoding?)] = [
        ("ALARM strefa 1", nil),
        ("Cena 5€ [promocja] {x} ~ | ^ \\", nil),
        ("Zażółć gęślą jaźń", nil),
        ("emoji 🚨 alarm", nil),
        (String(repeating: "Długi tekst alarmowy. ", count: 20), nil),
        (String(repeating: "€[]", count: 120), nil),
        (String(repeating: "🚨", count: 100), nil),
        ("binary-ish ASCII", .eightBit),
        (String(repeating: "x", count: 160), nil),
        (String(repeating: "x", count: 161), nil),
    ]

    @Test(arguments: 0..<texts.count, [
        SmsAddress(kind: .international, value: "+48600100200"),
        SmsAddress(kind: .national, value: "600100200"),
        SmsAddress(kind: .alphanumeric, value: "SATEL"),
    ])
    func roundTrip(textIndex: Int, sender: SmsAddress) throws {
        let (text, coding) = Self.texts[textIndex]
        let stamp = SmsTimestamp(date: Date(timeIntervalSince1970: 1_750_000_000), offsetQuarterHours: -14)
        let pdus = SmsPduEncoder().deliver(text: text, from: sender, at: stamp, coding: coding, reference: 77)
        let parts = try pdus.map { try SmsDeliver.decode(hex: $0) }
        #expect(parts.allSatisfy { $0.sender == sender && $0.timestamp == stamp })
        if parts.count > 1 {
            #expect(parts.map { $0.concatenation?.sequence ?? 0 } == Array(1...parts.count))
        }
        let joined = ReceivedSms.assemble(parts.enumerated().map { ($0.offset + 1, $0.element, pdus[$0.offset]) }, total: parts.count)
        #expect(joined.text == text)
        #expect(pdus.allSatisfy { $0.count / 2 <= 176 })
    }
}
