/// Packing of 7-bit septets into octets, least significant bit first (TS 23.038 §6.1.2.1.1).
public enum SeptetPacking {
    /// The octets needed for `septets` septets.
    public static func octetCount(septets: Int) -> Int { (septets * 7 + 7) / 8 }

    /// Reads `count` septets from `octets`, which must hold at least `octetCount(septets: count)` octets.
    public static func unpack(_ octets: ArraySlice<UInt8>, count: Int) -> [UInt8] {
        var septets: [UInt8] = []
        septets.reserveCapacity(count)
        let base = octets.startIndex
        for index in 0..<count {
            let bit = index * 7
            let octet = base + bit / 8
            let shift = bit % 8
            var value = UInt16(octets[octet]) >> shift
            if shift > 1 { value |= UInt16(octets[octet + 1]) << (8 - shift) }
            septets.append(UInt8(value & 0x7F))
        }
        return septets
    }

    /// Packs septets, starting `fillBits` bits into the first octet (the fill after a user-data header).
    public static func pack(_ septets: [UInt8], fillBits: Int = 0) -> [UInt8] {
        let totalBits = fillBits + septets.count * 7
        var octets = [UInt8](repeating: 0, count: (totalBits + 7) / 8)
        for (index, septet) in septets.enumerated() {
            let bit = fillBits + index * 7
            let value = UInt16(septet & 0x7F) << (bit % 8)
            octets[bit / 8] |= UInt8(value & 0xFF)
            if value > 0xFF { octets[bit / 8 + 1] |= UInt8(value >> 8) }
        }
        return octets
    }
}
