/// The part of a DC-09 message before its data block, which an answer echoes.
public struct DC09Header: Sendable, Hashable {
    /// The ID token between the quotes, without the `*` of an encrypted message.
    public enum Token: Sendable, Hashable {
        /// SIA DC-03 data (`"SIA-DCS"`).
        case siaDCS
        /// Contact ID data (`"ADM-CID"`).
        case contactID
        /// A link test (`"NULL"`): no data.
        case null
        /// Any other token a sender may use (a proprietary one): well-formed, but the station cannot use it (DUH).
        case other(String)

        init(_ text: String) {
            switch text {
            case "SIA-DCS": self = .siaDCS
            case "ADM-CID": self = .contactID
            case "NULL": self = .null
            default: self = .other(text)
            }
        }

        public var text: String {
            switch self {
            case .siaDCS: "SIA-DCS"
            case .contactID: "ADM-CID"
            case .null: "NULL"
            case .other(let text): text
            }
        }
    }

    public var token: Token
    public var encrypted: Bool
    /// 1...9999 (decimal digits on the wire).
    public var sequence: Int
    /// The receiver number after `R`, as sent (hex digits), when there was one.
    public var receiver: String?
    /// The line prefix after `L`, as sent (hex digits); the standard makes it mandatory, some senders leave it out.
    public var linePrefix: String?
    /// The account after `#`, as sent (hex digits).
    public var account: String

    public init(token: Token, encrypted: Bool, sequence: Int, receiver: String?, linePrefix: String?, account: String) {
        self.token = token
        self.encrypted = encrypted
        self.sequence = sequence
        self.receiver = receiver
        self.linePrefix = linePrefix
        self.account = account
    }
}
