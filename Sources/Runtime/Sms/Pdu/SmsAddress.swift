/// An originating (or service-centre) address: TS 23.040 §9.1.2.5.
public struct SmsAddress: Hashable, Sendable, Codable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable, Codable {
        /// Type of number 001: printed with a leading `+`.
        case international
        /// Type of number 010: the number as dialled inside the country.
        case national
        /// Type of number 101: a name such as `BANK`, GSM 7-bit packed.
        case alphanumeric
        /// Any other type of number (unknown, network specific, subscriber, abbreviated).
        case other
    }

    public var kind: Kind
    /// `+48600100200`, `0600100200` or `ALARM`.
    public var value: String
    /// The raw type-of-address octet, kept for the record.
    public var typeOfAddress: UInt8

    public init(kind: Kind, value: String, typeOfAddress: UInt8? = nil) {
        self.kind = kind
        self.value = value
        self.typeOfAddress = typeOfAddress ?? {
            switch kind {
            case .international: 0x91
            case .national: 0xA1
            case .alphanumeric: 0xD0
            case .other: 0x81
            }
        }()
    }

    public var description: String { value }

    static func kind(typeOfAddress: UInt8) -> Kind {
        switch (typeOfAddress >> 4) & 0x07 {
        case 1: .international
        case 2: .national
        case 5: .alphanumeric
        default: .other
        }
    }

    /// Semi-octet digits, low nibble first, `F` padding ends them; A-E are `*`, `#`, `a`, `b`, `c`.
    static func decodeDigits(_ octets: ArraySlice<UInt8>, count: Int) -> String {
        let symbols = Array("0123456789*#abc")
        var digits = ""
        for octet in octets {
            for nibble in [octet & 0x0F, octet >> 4] where digits.count < count {
                if nibble == 0x0F { return digits }
                digits.append(symbols[Int(nibble)])
            }
        }
        return digits
    }

    static func encodeDigits(_ digits: String) -> [UInt8] {
        let nibbles: [UInt8] = digits.compactMap { character in
            switch character {
            case "*": 0x0A
            case "#": 0x0B
            default: character.wholeNumberValue.map(UInt8.init)
            }
        }
        var octets: [UInt8] = []
        var index = 0
        while index < nibbles.count {
            let low = nibbles[index]
            let high = index + 1 < nibbles.count ? nibbles[index + 1] : 0x0F
            octets.append(high << 4 | low)
            index += 2
        }
        return octets
    }

    /// The TP-OA field: digit count (semi-octets for alphanumeric), type of address, value.
    public func encodedAsOriginatingAddress() -> [UInt8] {
        switch kind {
        case .alphanumeric:
            let septets = GsmAlphabet.encode(value) ?? []
            let packed = SeptetPacking.pack(septets)
            return [UInt8((septets.count * 7 + 3) / 4), typeOfAddress] + packed
        default:
            let digits = value.hasPrefix("+") ? String(value.dropFirst()) : value
            return [UInt8(digits.count), typeOfAddress] + Self.encodeDigits(digits)
        }
    }

    /// The SMSC field: octet count (type of address included), type of address, digits.
    public func encodedAsServiceCentre() -> [UInt8] {
        let digits = value.hasPrefix("+") ? String(value.dropFirst()) : value
        let encoded = Self.encodeDigits(digits)
        return [UInt8(encoded.count + 1), typeOfAddress] + encoded
    }
}
