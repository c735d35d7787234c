import Foundation

/// One DC-09 message as read from a frame, decrypted when it was encrypted.
public struct DC09Message: Sendable, Hashable {
    /// An extended data block (`[X...]`): its letter and the text after it. H is the time, I a text, L the
    /// location, X and Y the coordinates; others are kept as they came.
    public struct ExtendedData: Sendable, Hashable {
        public var letter: Character
        public var value: String

        public init(letter: Character, value: String) {
            self.letter = letter
            self.value = value
        }
    }

    public var header: DC09Header
    /// What was between the data block's brackets (after the pad of an encrypted message): `#acct|Nri1/BA01` for
    /// SIA-DCS, `#acct|1130 01 015` for Contact ID, empty for a link test.
    public var data: String
    public var extendedData: [ExtendedData]
    /// The sender's UTC time (`_HH:MM:SS,MM-DD-YYYY`); every encrypted message has one.
    public var timestamp: Date?

    public init(header: DC09Header, data: String, extendedData: [ExtendedData] = [], timestamp: Date? = nil) {
        self.header = header
        self.data = data
        self.extendedData = extendedData
        self.timestamp = timestamp
    }
}
