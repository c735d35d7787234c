/// Why a PDU could not be decoded. Like postgres-nio's errors: a `code` to switch on, where in the PDU it
/// happened, and the offending bytes (as hex) so a log line is enough to reproduce it.
public struct SmsPduError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalidHex, oddHexLength, truncated, badLength, unsupportedMessageType, invalidTimestamp,
                 invalidUserDataHeader, invalidUCS2
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A character that is not a hexadecimal digit.
        public static let invalidHex = Code(.invalidHex)
        /// The hex text has an odd number of digits (half an octet).
        public static let oddHexLength = Code(.oddHexLength)
        /// The PDU ends before a field it announces.
        public static let truncated = Code(.truncated)
        /// A length field contradicts the rest (e.g. user data longer than 140 octets, SMSC longer than 11).
        public static let badLength = Code(.badLength)
        /// Not an SMS-DELIVER (an SMS-SUBMIT or status report stored on the SIM is not an incoming message).
        public static let unsupportedMessageType = Code(.unsupportedMessageType)
        /// A service-centre time stamp digit that is not a decimal digit, or an impossible date.
        public static let invalidTimestamp = Code(.invalidTimestamp)
        /// A user-data header whose elements run past its own length.
        public static let invalidUserDataHeader = Code(.invalidUserDataHeader)
        /// UCS2 user data with an odd number of octets.
        public static let invalidUCS2 = Code(.invalidUCS2)

        public var description: String { base.rawValue }
    }

    public var code: Code
    /// Octet offset in the PDU (including the SMSC part) where decoding stopped.
    public var offset: Int
    public var pduHex: String
    public var detail: String

    public init(_ code: Code, offset: Int, pduHex: String, detail: String) {
        self.code = code
        self.offset = offset
        self.pduHex = pduHex
        self.detail = detail
    }

    public var description: String { "SMS PDU \(code) at octet \(offset): \(detail) (pdu \(pduHex))" }
}
