/// The 0x1A answer: the panel clock and a few status bits (doc §3.3).
public struct ClockAndStatus: Hashable, Sendable, Codable {
    public var year: Int
    public var month: Int
    public var day: Int
    public var hour: Int
    public var minute: Int
    public var second: Int
    /// 0 = Monday (gadulowaty's reading; unconfirmed).
    public var dayOfWeek: Int
    public var troublesPresent: Bool
    public var serviceMode: Bool
    /// The low nibble of byte 8 (0=24, 1=32, 2=64, 3=128, 4=128-WRL, 8=256 Plus).
    public var panelBaseType: UInt8
    public var grade23: Bool
    public var troublesMemory: Bool
    public var intRXPresent: Bool
    public var acu100Present: Bool

    public init(
        year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, dayOfWeek: Int,
        troublesPresent: Bool = false, serviceMode: Bool = false, panelBaseType: UInt8, grade23: Bool = false,
        troublesMemory: Bool = false, intRXPresent: Bool = false, acu100Present: Bool = false
    ) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
        self.dayOfWeek = dayOfWeek
        self.troublesPresent = troublesPresent
        self.serviceMode = serviceMode
        self.panelBaseType = panelBaseType
        self.grade23 = grade23
        self.troublesMemory = troublesMemory
        self.intRXPresent = intRXPresent
        self.acu100Present = acu100Present
    }

    public static let answerLength = 9

    init(frame: SatelFrame) throws(SatelMessageError) {
        let data = frame.data
        guard data.count == Self.answerLength else {
            throw SatelMessageError(code: .unexpectedLength, frame: frame, reason: "0x1A answer needs 9 bytes")
        }
        func bcd(_ byte: UInt8) throws(SatelMessageError) -> Int {
            guard byte >> 4 <= 9, byte & 0x0F <= 9 else {
                throw SatelMessageError(code: .invalidField, frame: frame, reason: "clock byte is not BCD")
            }
            return Int(byte >> 4) * 10 + Int(byte & 0x0F)
        }
        year = try bcd(data[0]) * 100 + bcd(data[1])
        month = try bcd(data[2])
        day = try bcd(data[3])
        hour = try bcd(data[4])
        minute = try bcd(data[5])
        second = try bcd(data[6])
        dayOfWeek = Int(data[7] & 0x07)
        troublesPresent = data[7] & 0x40 != 0
        serviceMode = data[7] & 0x80 != 0
        panelBaseType = data[8] & 0x0F
        grade23 = data[8] & 0x10 != 0
        troublesMemory = data[8] & 0x20 != 0
        intRXPresent = data[8] & 0x40 != 0
        acu100Present = data[8] & 0x80 != 0
    }

    var data: [UInt8] {
        // Two BCD digits of a value kept within 0...99, so no clock value can trap here.
        func bcd(_ value: Int) -> UInt8 {
            let clamped = ((value % 100) + 100) % 100
            return UInt8(clamped / 10) << 4 | UInt8(clamped % 10)
        }
        var byte7 = UInt8(dayOfWeek & 0x07)
        if troublesPresent { byte7 |= 0x40 }
        if serviceMode { byte7 |= 0x80 }
        var byte8 = panelBaseType & 0x0F
        if grade23 { byte8 |= 0x10 }
        if troublesMemory { byte8 |= 0x20 }
        if intRXPresent { byte8 |= 0x40 }
        if acu100Present { byte8 |= 0x80 }
        return [bcd(year / 100), bcd(year % 100), bcd(month), bcd(day), bcd(hour), bcd(minute), bcd(second), byte7, byte8]
    }

    /// `2026-05-05 20:18:30`.
    public var display: String {
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(year)-\(two(month))-\(two(day)) \(two(hour)):\(two(minute)):\(two(second))"
    }
}
