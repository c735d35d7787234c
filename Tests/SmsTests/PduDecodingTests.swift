import Foundation
import Sms
import Testing

/// SMS-DELIVER decoding against published PDUs (dreamfabric.com's SMS pages and python-gsmmodem's test
/// vectors); where only a SUBMIT or a field was published, the DELIVER around it is built here by hand.
@Suite struct PduDecodingTests {
    static func utc(_ year: Int, _ month: Int, _ day: Int, _ hour: Int, _ minute: Int, _ second: Int) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0)!
        return calendar.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second))!
    }

    @Test func sevenBitFromDreamfabric() throws {
        // The SMS-DELIVER example of dreamfabric.com: "How are you?" from +31641600986.
        let sms = try SmsDeliver.decode(hex: "07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07")
        #expect(sms.serviceCentre?.value == "+31624000000")
        #expect(sms.sender == SmsAddress(kind: .international, value: "+31641600986"))
        #expect(sms.dataCoding == .gsm7)
        #expect(sms.text == "How are you?")
        #expect(sms.timestamp.year == 2002 && sms.timestamp.month == 8 && sms.timestamp.day == 26)
        #expect(sms.timestamp.hour == 19 && sms.timestamp.minute == 37 && sms.timestamp.second == 41)
        #expect(sms.concatenation == nil)
    }

    @Test func sevenBitWithTimeZones() throws {
        let test2 = try SmsDeliver.decode(hex: "06917228195339040B917228214365F700003130805120618005D4F29C2E03")
        #expect(test2.serviceCentre?.value == "+2782913593")
        #expect(test2.sender.value == "+27821234567")
        #expect(test2.text == "Test2")
        #expect(test2.timestamp.offsetQuarterHours == 8)
        #expect(test2.timestamp.date == Self.utc(2013, 3, 8, 13, 2, 16))

        let easy = try SmsDeliver.decode(hex: "07915892000000F0040B915892214365F700007040213252242331493A283D0795C3F33C88FE06C9CB6132885EC6D341EDF27C1E3E97E7207B3A0C0A5241E377BB1D7693E72E")
        #expect(easy.sender.value == "+85291234567")
        #expect(easy.text == "It is easy to read text messages via AT commands.")
        #expect(easy.timestamp.offsetQuarterHours == 32)
        #expect(easy.timestamp.date == Self.utc(2007, 4, 12, 15, 25, 42))
    }

    @Test func negativeTimeZone() throws {
        // python-gsmmodem's time stamp vector 7040213252242B: 2007-04-12 23:25:42 GMT-8 (sign bit in the
        // first semi-octet of the zone).
        let sms = try SmsDeliver.decode(hex: "07915892000000F0040B915892214365F70000" + "7040213252242B" + "05D4F29C2E03")
        #expect(sms.timestamp.offsetQuarterHours == -32)
        #expect(sms.timestamp.hour == 23)
        #expect(sms.timestamp.date == Self.utc(2007, 4, 13, 7, 25, 42))
    }

    @Test func extensionTableCharacters() throws {
        let braces = try SmsDeliver.decode(hex: "06917228195339040B917228214365F70000313062315352800A800D8A5E98D337A910")
        #expect(braces.text == "@{tést}!")
        // 'a[]{}€' as packed septets (python-gsmmodem), as user data of 11 septets.
        let brackets = try SmsDeliver.decode(hex: "00040B917228214365F70000313062315352800B" + "E10D6FE3DBA036A94D19")
        #expect(brackets.text == "a[]{}€")
    }

    @Test func ucs2() throws {
        // The UCS2 user data of python-gsmmodem's SUBMIT vector, in a DELIVER.
        let sms = try SmsDeliver.decode(hex: "07914346466554F6040B914316565811F90008313080512061800" + "6304253F68449")
        #expect(sms.dataCoding == .ucs2)
        #expect(sms.sender.value == "+34616585119")
        #expect(sms.text == "あ叶葉")
    }

    @Test(arguments: [
        ("0ED04669D0397C26A7", "FRANCOIS"),
        ("06D061F118", "abc"),
        ("14D0E10D6FE3DBA036A94D19", "a[]{}€"),
    ])
    func alphanumericSender(address: String, name: String) throws {
        let sms = try SmsDeliver.decode(hex: "0004" + address + "0000" + "31308051206180" + "05D4F29C2E03")
        #expect(sms.sender == SmsAddress(kind: .alphanumeric, value: name))
        #expect(sms.text == "Test2")
    }

    @Test func nationalNumber() throws {
        let sms = try SmsDeliver.decode(hex: "0004" + "0AA11092997856" + "0000" + "31308051206180" + "05D4F29C2E03")
        #expect(sms.sender == SmsAddress(kind: .national, value: "0129998765"))
    }

    @Test func eightBitConcatenationHeaderWithFillBits() throws {
        let sms = try SmsDeliver.decode(hex: "0591721891F1400781721881F800003160526104848059050003C30101916536FB1DCABEEB2074D85E064941B19CAB060319A5C522289C96D3D3ED32286C0FA7D96131BBEC024941B19CAB0603DDD36C36A88C87A7E565D0DB0D82C55EB0DB4B068BCD5C20")
        #expect(sms.sender.value == "2781188")
        #expect(sms.concatenation == SmsConcatenation(reference: 0xC3, total: 1, sequence: 1))
        #expect(sms.text == "Hello!You have R 19.50 FREE airtime available. R 19.50 will expire on 01/07/2013. ")
    }

    static let lorem = "Lorem ipsum dolor sit amet, consectetur adipisicing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.Ut enim ad minim veniam, quinostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat.Duis aute irure dolor in reprehenderit in voluptate velit esse cillum doloe eu fugiat nulla pariatur.Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit anim id est laborum"

    /// python-gsmmodem's three concatenated SUBMIT PDUs of `lorem`, their user data moved into DELIVERs.
    static let loremParts: [String] = [
        ("A0", "050003000301986F79B90D4AC3E7F53688FC66BFE5A0799A0E0AB7CB741668FC76CFCB637A995E9783C2E4343C3D4F8FD3EE33A8CC4ED359A079990C22BF41E5747DDE7E9341F4721BFE9683D2EE719A9C26D7DD74509D0E6287C56F791954A683C86FF65B5E06B5C36777181466A7E3F5B0AB4A0795DDE936284C06B5D3EE741B642FBBD3E1360B14AFA7DD"),
        ("A0", "050003000302DE73BABC4E0695F165F9384D0FD3D36F37A8CE6687DBE337881D16BFE5E939C89D9EA741753A28CC4EC7EB6938A88C0795C3A0F1BBDD7E93DFA0F1DB3D2FC7EB61BA8B584FCF41E13ABD0C4ACBEBF23288FC66BFE5A0B41B242FC3E56574D94D2ECBD37450DA0DB2BFD975383D4C2F83EC65769A0E2ACFE765D038CD66D7DB20F29BFD2E83CA"),
        ("8C", "050003000303EA2073FD9C0ED341EE3A9B1D06C1C3F274985E97BB8AF871194E2FD7E5A079DA4D07BDC7E370791CA683C675789A1CA687E920F7DB0D82CBDF6972D94D6781E675371D947683C675363C0C8AD7D3A0B7D99C1EA7C32072795E96D7DD7450FBCD66A7E9A0B03BDD06A5C9A0F29C0E6287C56F79BD0D"),
    ].map { length, data in "0044" + "0B915121551532F4" + "0000" + "31308051206180" + length + data }

    @Test func concatenatedThreeParts() throws {
        let parts = try Self.loremParts.map { try SmsDeliver.decode(hex: $0) }
        #expect(parts.map { $0.concatenation?.sequence } == [1, 2, 3])
        #expect(parts.allSatisfy { $0.concatenation?.total == 3 && $0.concatenation?.reference == 0 })
        // Out of order on purpose: assembly sorts by sequence.
        let assembled = ReceivedSms.assemble([2, 0, 1].map { (parts[$0].concatenation!.sequence, parts[$0], Self.loremParts[$0]) }, total: 3)
        #expect(assembled.complete)
        #expect(assembled.text == Self.lorem)
        #expect(assembled.sender == "+15125551234")
    }

    @Test func sixteenBitReference() throws {
        let encoder = SmsPduEncoder()
        let pdus = encoder.deliver(text: String(repeating: "0123456789", count: 40), from: SmsAddress(kind: .international, value: "+48600100200"),
                                   at: SmsTimestamp(date: Date(timeIntervalSince1970: 1_700_000_000), offsetQuarterHours: 4),
                                   reference: 384, sixteenBitReference: true)
        let parts = try pdus.map { try SmsDeliver.decode(hex: $0) }
        #expect(parts.count == 3)
        #expect(parts.allSatisfy { $0.concatenation?.reference == 384 && $0.concatenation?.sixteenBitReference == true })
        #expect(parts.map(\.text).joined() == String(repeating: "0123456789", count: 40))
    }

    @Test func messageIdDependsOnContentNotOrder() {
        let a = ReceivedSms.messageID(pdus: Self.loremParts, complete: true)
        #expect(a == ReceivedSms.messageID(pdus: Self.loremParts.reversed().map { $0.lowercased() }, complete: true))
        #expect(a != ReceivedSms.messageID(pdus: Self.loremParts, complete: false))
        #expect(a != ReceivedSms.messageID(pdus: Array(Self.loremParts.prefix(2)), complete: true))
    }
}
