/// The 0xEE answer: an object's type byte and its 16-character name (doc §4.2).
public struct DeviceName: Hashable, Sendable, Codable {
    public var kind: DeviceKind
    public var number: Int
    /// Partition type, zone reaction, output function, expander or keypad model, depending on `kind`.
    public var function: UInt8
    public var name: String
    public var rawName: [UInt8]
    /// The extra byte some kinds carry (zone's partition for kind 5, user serial for kind 2, object for 16).
    public var extra: UInt8?

    public init(kind: DeviceKind, number: Int, function: UInt8, rawName: [UInt8], extra: UInt8? = nil) {
        self.kind = kind
        self.number = number
        self.function = function
        // The field is always 16 bytes, space padded; pad here so a built name equals a decoded one.
        var padded = Array(rawName.prefix(16))
        padded += [UInt8](repeating: 0x20, count: 16 - padded.count)
        self.rawName = padded
        self.name = DeviceName.decodeText(padded)
        self.extra = extra
    }

    init(frame: SatelFrame) throws(SatelMessageError) {
        let data = frame.data
        guard data.count == 19 || data.count == 20 else {
            throw SatelMessageError(code: .unexpectedLength, frame: frame, reason: "0xEE answer needs 19 or 20 bytes")
        }
        self.init(
            kind: DeviceKind(rawValue: data[0]), number: data[1] == 0 ? 256 : Int(data[1]), function: data[2],
            rawName: Array(data[3..<19]), extra: data.count == 20 ? data[19] : nil)
    }

    var data: [UInt8] {
        [kind.rawValue, UInt8(truncatingIfNeeded: number), function] + rawName + (extra.map { [$0] } ?? [])
    }

    /// Panel texts are in a single-byte code page (CP1250 on Polish firmware). ASCII maps as is; the Polish
    /// letters of CP1250 are mapped; anything else becomes its Latin-1 reading. Trailing spaces are trimmed.
    static func decodeText(_ bytes: [UInt8]) -> String {
        var text = String(bytes.map { byte -> Character in
            if byte < 0x80 { return Character(Unicode.Scalar(byte)) }
            if let polish = cp1250Polish[byte] { return polish }
            return Character(Unicode.Scalar(byte))
        })
        while text.last == " " || text.last == "\0" {
            text.removeLast()
        }
        return text
    }

    private static let cp1250Polish: [UInt8: Character] = [
        0xA5: "Ą", 0xC6: "Ć", 0xCA: "Ę", 0xA3: "Ł", 0xD1: "Ń", 0xD3: "Ó", 0x8C: "Ś", 0x8F: "Ź", 0xAF: "Ż",
        0xB9: "ą", 0xE6: "ć", 0xEA: "ę", 0xB3: "ł", 0xF1: "ń", 0xF3: "ó", 0x9C: "ś", 0x9F: "ź", 0xBF: "ż",
    ]
}

/// The object types 0xEE can name.
public struct DeviceKind: RawRepresentable, Hashable, Sendable, Codable {
    public var rawValue: UInt8

    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    public static let partition = Self(rawValue: 0)
    public static let zone = Self(rawValue: 1)
    public static let user = Self(rawValue: 2)
    public static let expanderOrKeypad = Self(rawValue: 3)
    public static let output = Self(rawValue: 4)
    public static let zoneWithPartition = Self(rawValue: 5)
    public static let timer = Self(rawValue: 6)
    public static let telephone = Self(rawValue: 7)
    public static let object = Self(rawValue: 15)
    public static let partitionWithObject = Self(rawValue: 16)
}
