/// A frame that is well formed on the wire but does not make sense as the message it claims to be.
public struct SatelMessageError: Error, Hashable, Sendable {
    public enum Code: String, Hashable, Sendable, Codable {
        /// The data length does not match any form of the command.
        case unexpectedLength
        /// A field holds a value the protocol does not allow (a non-digit in a code, a bad BCD nibble…).
        case invalidField
        /// The command byte is not one this implementation knows.
        case unknownCommand
    }

    public var code: Code
    /// The whole offending frame body: command byte followed by data.
    public var bytes: [UInt8]
    /// What was wrong, in words.
    public var reason: String

    public init(code: Code, frame: SatelFrame, reason: String) {
        self.code = code
        self.bytes = [frame.command] + frame.data
        self.reason = reason
    }
}

extension SatelMessageError: CustomStringConvertible {
    public var description: String {
        "SatelMessageError(\(code.rawValue): \(reason); \(SatelHex.string(bytes)))"
    }
}
