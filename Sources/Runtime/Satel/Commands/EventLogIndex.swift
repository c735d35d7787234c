/// An opaque 24-bit event-log cursor as the panel hands it out (doc §6.1).
public struct EventLogIndex: RawRepresentable, Hashable, Sendable, Codable {
    public var rawValue: UInt32

    public init(rawValue: UInt32) {
        self.rawValue = rawValue & 0xFF_FFFF
    }

    /// `FF FF FF`: asks for the newest record of the standard log.
    public static let newest = EventLogIndex(rawValue: 0xFF_FFFF)
    /// `00 FF FF`: asks for the newest record of the Grade 2/3 log.
    public static let newestGrade23 = EventLogIndex(rawValue: 0x00_FFFF)

    init(bytes: ArraySlice<UInt8>) {
        let start = bytes.startIndex
        self.init(rawValue: UInt32(bytes[start]) << 16 | UInt32(bytes[start + 1]) << 8 | UInt32(bytes[start + 2]))
    }

    /// Big-endian, as in the request and the answer.
    public var bytes: [UInt8] {
        [UInt8(truncatingIfNeeded: rawValue >> 16), UInt8(truncatingIfNeeded: rawValue >> 8), UInt8(truncatingIfNeeded: rawValue)]
    }
}

extension EventLogIndex: CustomStringConvertible {
    public var description: String { "0x" + bytes.map { SatelHex.string($0) }.joined() }
}
