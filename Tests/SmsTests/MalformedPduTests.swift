import Foundation
import Sms
import Testing

/// Broken PDUs are refused with an error that says what and where; none of them may crash.
@Suite struct MalformedPduTests {
    static let valid = "07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07"

    static let cases: [(String, SmsPduError.Code)] = [
        ("", SmsPduError.Code.truncated),
        ("0", .oddHexLength),
        ("07911326040000F0040B9113466100", .truncated),
        (String(valid.dropLast(2)), .truncated),
        (String(valid.dropLast(1)), .oddHexLength),
        ("07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD0Z", .invalidHex),
        ("0C911326040000F0", .badLength),
        ("0004FF91", .badLength),
        ("0001", .unsupportedMessageType),
        ("00040B911346610089F60000" + "2A806291731408" + "00", .invalidTimestamp),
        ("00040B911346610089F60000" + "20F0629173140800", .invalidTimestamp),
        ("00040B911346610089F60000" + "20806291731408" + "A1" + String(repeating: "00", count: 141), .badLength),
        ("00040B911346610089F60008" + "20806291731408" + "03" + "004100", .invalidUCS2),
        ("00440B911346610089F60004" + "20806291731408" + "03" + "0800FF", .invalidUserDataHeader),
        ("00440B911346610089F60004" + "20806291731408" + "04" + "03000341", .invalidUserDataHeader),
        ("00440B911346610089F60000" + "20806291731408" + "01" + "06", .invalidUserDataHeader),
    ]

    @Test(arguments: cases)
    func rejected(hex: String, code: SmsPduError.Code) {
        #expect { try SmsDeliver.decode(hex: hex) } throws: { error in
            (error as? SmsPduError)?.code == code
        }
    }

    /// Every prefix and every single-octet corruption of valid PDUs decodes or throws `SmsPduError`.
    @Test func noCrashOnAnyTruncationOrCorruption() {
        var outcomes = (decoded: 0, rejected: 0)
        for pdu in [Self.valid] + PduDecodingTests.loremParts {
            let bytes = try! SmsHex.decode(pdu)
            for length in 0..<bytes.count {
                do { _ = try SmsDeliver.decode(Array(bytes.prefix(length))); outcomes.decoded += 1 } catch { outcomes.rejected += 1 }
            }
            for position in 0..<bytes.count {
                for value: UInt8 in [0x00, 0x7F, 0xFF] {
                    var corrupted = bytes
                    corrupted[position] = value
                    do { _ = try SmsDeliver.decode(corrupted); outcomes.decoded += 1 } catch { outcomes.rejected += 1 }
                }
            }
        }
        #expect(outcomes.rejected > 0 && outcomes.decoded > 0)
    }
}
