/// A firmware version string `VMMYYYYMMDD` as sent by 0x7C and 0x7E, e.g. `12320120527` = 1.23 2012-05-27.
public struct FirmwareVersion: Hashable, Sendable, Codable {
    /// The 11 ASCII characters as received.
    public var raw: String

    public init(raw: String) {
        self.raw = raw
    }

    /// `"1.23 2012-05-27"`, or the raw text when it is not in the documented shape.
    public var display: String {
        let characters = Array(raw)
        guard characters.count == 11, characters.allSatisfy(\.isNumber) else { return raw }
        let text = String(characters)
        func part(_ from: Int, _ length: Int) -> Substring {
            let start = text.index(text.startIndex, offsetBy: from)
            return text[start..<text.index(start, offsetBy: length)]
        }
        return "\(part(0, 1)).\(part(1, 2)) \(part(3, 4))-\(part(7, 2))-\(part(9, 2))"
    }

    /// Major*100 + minor (1.23 → 123), for feature checks; nil when not numeric.
    public var number: Int? {
        Int(raw.prefix(3))
    }
}
