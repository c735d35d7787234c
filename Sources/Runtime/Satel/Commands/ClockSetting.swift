/// A date and time to set the panel clock to (0x8E sends it as 14 ASCII digits `YYYYMMDDhhmmss`).
public struct ClockSetting: Hashable, Sendable, Codable {
    public var year: Int
    public var month: Int
    public var day: Int
    public var hour: Int
    public var minute: Int
    public var second: Int

    public init(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
    }

    var digits: [UInt8] {
        func padded(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        let text = padded(year, 4) + padded(month, 2) + padded(day, 2) + padded(hour, 2) + padded(minute, 2)
            + padded(second, 2)
        return Array(text.utf8)
    }

    init?(digits: ArraySlice<UInt8>) {
        guard digits.count == 14, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        let values = digits.map { Int($0 - 0x30) }
        func number(_ from: Int, _ length: Int) -> Int {
            values[from..<from + length].reduce(0) { $0 * 10 + $1 }
        }
        self.init(
            year: number(0, 4), month: number(4, 2), day: number(6, 2), hour: number(8, 2), minute: number(10, 2),
            second: number(12, 2))
        guard isValid else { return nil }
    }

    /// A real calendar date and time (the panel's clock cannot hold anything else).
    public var isValid: Bool {
        (1...12).contains(month) && (1...31).contains(day) && (0..<24).contains(hour) && (0..<60).contains(minute)
            && (0..<60).contains(second) && (1...9999).contains(year)
    }
}
