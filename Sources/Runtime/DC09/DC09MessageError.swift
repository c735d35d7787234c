/// Why a frame was not taken, and so which answer it gets: NAK for a frame whose CRC, length, format, key or time
/// is wrong (the sender retries or corrects its clock); DUH for a well-formed message the station cannot use.
public struct DC09MessageError: Error, CustomStringConvertible, Sendable, Hashable {
    public enum Code: String, Sendable, Hashable {
        case crcMismatch = "crc_mismatch"
        case lengthMismatch = "length_mismatch"
        case malformed
        /// An encrypted message from an account without a key, or a key that does not decrypt it.
        case key
        /// The timestamp is outside the window (+20 s / -40 s around the receiver's clock).
        case timestamp
        /// An account the station does not know.
        case unknownAccount = "unknown_account"
        /// Well-formed, but not a message the station can use (an unknown token, data it cannot read).
        case unusable
    }

    public var code: Code
    public var message: String
    /// The header, when the frame got that far: a DUH echoes it.
    public var header: DC09Header?

    public init(_ code: Code, _ message: String, header: DC09Header? = nil) {
        self.code = code
        self.message = message
        self.header = header
    }

    /// NAK for everything but `unusable`, which gets DUH.
    public var answersWithNAK: Bool { code != .unusable }

    public var description: String { "\(code.rawValue): \(message)" }
}
