/// The alphabet a TP-DCS octet selects (TS 23.038 §4); message classes and indications are not needed here.
public enum SmsDataCoding: String, Hashable, Sendable, Codable {
    case gsm7
    case eightBit
    case ucs2

    public init(dataCodingScheme dcs: UInt8) {
        switch dcs >> 4 {
        case 0x0...0x3, 0x4...0x7:
            // General data coding and automatic deletion groups. Compressed text (bit 5) is not supported by
            // any modem we know of; it is kept as 8-bit data so nothing is lost.
            if dcs & 0x20 != 0 { self = .eightBit; return }
            switch (dcs >> 2) & 0x03 {
            case 1: self = .eightBit
            case 2: self = .ucs2
            default: self = .gsm7
            }
        case 0xE: self = .ucs2
        case 0xF: self = dcs & 0x04 != 0 ? .eightBit : .gsm7
        default: self = .gsm7
        }
    }

    public var dataCodingScheme: UInt8 {
        switch self {
        case .gsm7: 0x00
        case .eightBit: 0x04
        case .ucs2: 0x08
        }
    }
}
