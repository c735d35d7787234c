/// A concatenated-message information element (IEI 0x00 with an 8-bit, 0x08 with a 16-bit reference).
public struct SmsConcatenation: Hashable, Sendable, Codable {
    public var reference: Int
    public var total: Int
    /// 1-based.
    public var sequence: Int
    public var sixteenBitReference: Bool

    public init(reference: Int, total: Int, sequence: Int, sixteenBitReference: Bool = false) {
        self.reference = reference
        self.total = total
        self.sequence = sequence
        self.sixteenBitReference = sixteenBitReference
    }

    /// The information element with its identifier and length.
    func encoded() -> [UInt8] {
        if sixteenBitReference {
            return [0x08, 0x04, UInt8(reference >> 8 & 0xFF), UInt8(reference & 0xFF), UInt8(total), UInt8(sequence)]
        }
        return [0x00, 0x03, UInt8(reference & 0xFF), UInt8(total), UInt8(sequence)]
    }
}
