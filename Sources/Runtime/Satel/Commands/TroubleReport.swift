/// Troubles decoded from the trouble bitmaps: named system troubles from part 1 and counts elsewhere.
public struct TroubleReport: Hashable, Sendable, Codable {
    /// Technical zones in trouble (part 1 bytes 0–15).
    public var technicalZones: [Int]
    /// The named system troubles of part 1 bytes 40–42 that are set.
    public var systemTroubles: [String]
    /// Set bits in each part, by part name, for the parts not decoded by name.
    public var otherTroubleBits: [String: Int]

    public init(parts: [TroublePart: [UInt8]]) {
        let part1 = parts[.part1] ?? []
        technicalZones = part1.count >= 16 ? ObjectBitmap(bytes: Array(part1[0..<16])).numbers : []
        var system: [String] = []
        if part1.count >= 43 {
            let bits = ObjectBitmap(bytes: Array(part1[40..<43]))
            for number in bits.numbers where number <= TroubleReport.systemTroubleNames.count {
                system.append(TroubleReport.systemTroubleNames[number - 1])
            }
        }
        systemTroubles = system
        var other: [String: Int] = [:]
        for (part, bytes) in parts {
            let range = part == .part1 ? Array(bytes.dropFirst(16).prefix(24)) + Array(bytes.dropFirst(43)) : bytes
            let count = range.reduce(0) { $0 + $1.nonzeroBitCount }
            if count > 0 { other[part.name] = count }
        }
        otherTroubleBits = other
    }

    public var isEmpty: Bool {
        technicalZones.isEmpty && systemTroubles.isEmpty && otherTroubleBits.isEmpty
    }

    /// Part 1 bytes 40–42, bit 0 of byte 40 first (doc §3.1).
    public static let systemTroubleNames = [
        "OUT1 trouble", "OUT2 trouble", "OUT3 trouble", "OUT4 trouble", "+KPD trouble", "+EX1/EX2 trouble",
        "BATT trouble", "AC trouble", "DT1 trouble", "DT2 trouble", "DTM trouble", "RTC trouble", "no DTR",
        "no battery", "external modem initialisation", "external modem command", "no phone line voltage",
        "bad signal on phone line", "no signal on phone line", "monitoring station 1", "monitoring station 2",
        "EEPROM/RTC access", "RAM", "main panel restart memory",
    ]
}
