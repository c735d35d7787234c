import Foundation

/// The service-centre time stamp (TP-SCTS, TS 23.040 §9.2.3.11): local time of the centre plus its offset
/// from UTC in quarter hours; bit 3 of the offset's first semi-octet is the sign.
public struct SmsTimestamp: Hashable, Sendable, Codable {
    public var year: Int
    public var month: Int
    public var day: Int
    public var hour: Int
    public var minute: Int
    public var second: Int
    /// Offset from UTC in quarter hours, -79...79 (west of Greenwich is negative).
    public var offsetQuarterHours: Int

    public init(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, offsetQuarterHours: Int) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
        self.offsetQuarterHours = offsetQuarterHours
    }

    /// The instant (local time minus the offset).
    public var date: Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0)!
        let components = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        let local = calendar.date(from: components) ?? Date(timeIntervalSince1970: 0)
        return local.addingTimeInterval(-Double(offsetQuarterHours * 15 * 60))
    }

    /// A time stamp for `date` as seen in a zone `offsetQuarterHours` from UTC (simulator, tests).
    public init(date: Date, offsetQuarterHours: Int) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0)!
        let local = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second],
                                            from: date.addingTimeInterval(Double(offsetQuarterHours * 15 * 60)))
        self.init(year: local.year!, month: local.month!, day: local.day!, hour: local.hour!, minute: local.minute!,
                  second: local.second!, offsetQuarterHours: offsetQuarterHours)
    }

    /// Decodes the 7 octets; nil when a digit is not decimal or a field is out of range.
    static func decode(_ octets: ArraySlice<UInt8>) -> SmsTimestamp? {
        guard octets.count == 7 else { return nil }
        var fields: [Int] = []
        for octet in octets.prefix(6) {
            let tens = Int(octet & 0x0F), units = Int(octet >> 4)
            guard tens <= 9, units <= 9 else { return nil }
            fields.append(tens * 10 + units)
        }
        let zone = octets[octets.startIndex + 6]
        let zoneTens = Int(zone & 0x07), zoneUnits = Int(zone >> 4)
        guard zoneUnits <= 9 else { return nil }
        let quarters = (zoneTens * 10 + zoneUnits) * (zone & 0x08 != 0 ? -1 : 1)
        let stamp = SmsTimestamp(year: 2000 + fields[0], month: fields[1], day: fields[2], hour: fields[3],
                                 minute: fields[4], second: fields[5], offsetQuarterHours: quarters)
        guard (1...12).contains(stamp.month), (1...31).contains(stamp.day), stamp.hour < 24, stamp.minute < 60,
              stamp.second < 60 else { return nil }
        return stamp
    }

    func encoded() -> [UInt8] {
        func swapped(_ value: Int) -> UInt8 { UInt8((value % 10) << 4 | (value / 10) % 10) }
        let quarters = abs(offsetQuarterHours)
        let zone = UInt8((quarters % 10) << 4 | (quarters / 10) & 0x07) | (offsetQuarterHours < 0 ? 0x08 : 0)
        return [swapped(year % 100), swapped(month), swapped(day), swapped(hour), swapped(minute), swapped(second), zone]
    }
}
