/// The 0x8F answer: the panel's own text for an event code (doc §6.5).
public struct EventText: Hashable, Sendable, Codable {
    public var code: Int
    public var restore: Bool
    public var long: Bool
    /// How to read the record's partition and source fields (0 none, 1 partition/zone, 2 partition/user, …).
    public var longDescriptionKind: UInt8
    public var shortDescriptionKind: UInt16
    /// The text bytes decoded as Latin-1-compatible text (panel code pages are CP1250 and similar).
    public var text: String
    public var rawText: [UInt8]

    public init(
        code: Int, restore: Bool, long: Bool, longDescriptionKind: UInt8, shortDescriptionKind: UInt16, rawText: [UInt8]
    ) {
        self.code = code
        self.restore = restore
        self.long = long
        self.longDescriptionKind = longDescriptionKind
        self.shortDescriptionKind = shortDescriptionKind
        // 16 or 46 bytes, space padded; pad here so a built text equals a decoded one.
        let length = long ? 46 : 16
        var padded = Array(rawText.prefix(length))
        padded += [UInt8](repeating: 0x20, count: length - padded.count)
        self.rawText = padded
        self.text = DeviceName.decodeText(padded)
    }

    init(frame: SatelFrame) throws(SatelMessageError) {
        let data = frame.data
        guard data.count == 21 || data.count == 51 else {
            throw SatelMessageError(code: .unexpectedLength, frame: frame, reason: "0x8F answer needs 21 or 51 bytes")
        }
        let selector = EventText.selector(high: data[0], low: data[1])
        self.init(
            code: selector.code, restore: selector.restore, long: selector.long, longDescriptionKind: data[2],
            shortDescriptionKind: UInt16(data[3]) << 8 | UInt16(data[4]), rawText: Array(data[5...]))
    }

    var data: [UInt8] {
        let selector = EventText.selectorBytes(code: code, restore: restore, long: long)
        return selector + [longDescriptionKind, UInt8(shortDescriptionKind >> 8), UInt8(shortDescriptionKind & 0xFF)]
            + rawText
    }

    /// The two request bytes: bit 15 long, bit 10 restore, bits 0–9 the code.
    static func selectorBytes(code: Int, restore: Bool, long: Bool) -> [UInt8] {
        let value = (long ? 0x8000 : 0) | (restore ? 0x0400 : 0) | (code & 0x03FF)
        return [UInt8(value >> 8), UInt8(value & 0xFF)]
    }

    static func selector(high: UInt8, low: UInt8) -> (code: Int, restore: Bool, long: Bool) {
        let value = Int(high) << 8 | Int(low)
        return (value & 0x03FF, value & 0x0400 != 0, value & 0x8000 != 0)
    }
}
