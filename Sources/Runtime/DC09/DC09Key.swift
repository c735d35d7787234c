import Crypto
import Foundation

/// An account's AES key: 16, 24 or 32 bytes. Installers get it as hex from some communicators and as text from
/// others, so both forms are accepted and the form used is kept (`form`), the bytes are what counts.
public struct DC09Key: Sendable, Hashable {
    public enum Form: String, Sendable, Hashable {
        case hex
        case text
    }

    public let bytes: [UInt8]
    public let form: Form

    public init(bytes: [UInt8], form: Form = .hex) throws(DC09KeyError) {
        guard [16, 24, 32].contains(bytes.count) else { throw DC09KeyError(length: bytes.count) }
        self.bytes = bytes
        self.form = form
    }

    /// 32, 48 or 64 hex digits.
    public init(hex: String) throws(DC09KeyError) {
        guard let bytes = DC09Hex.decode(hex) else { throw DC09KeyError(length: nil) }
        try self.init(bytes: bytes, form: .hex)
    }

    /// 16, 24 or 32 characters, their ASCII bytes.
    public init(text: String) throws(DC09KeyError) {
        try self.init(bytes: Array(text.utf8), form: .text)
    }

    var symmetricKey: SymmetricKey { SymmetricKey(data: bytes) }
}

/// A key that is not 128, 192 or 256 bits (or not hex where hex was said).
public struct DC09KeyError: Error, CustomStringConvertible, Sendable {
    /// The byte count given; nil for text that is not hex.
    public let length: Int?

    public var description: String {
        guard let length else { return "a DC-09 key in hex is 32, 48 or 64 hex digits" }
        return "a DC-09 key is 16, 24 or 32 bytes (AES-128, -192 or -256), not \(length)"
    }
}
