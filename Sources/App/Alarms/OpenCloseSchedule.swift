import Foundation

/// When a partition is expected open (disarmed): weekly windows in the site's time zone, replaced on the days an
/// exception covers (a holiday: no hours; a temporary change: its hours). Pure: the supervisor gives it the rows
/// and an instant. Local times become instants through the zone's calendar, so a window is right across DST: on
/// the spring-forward night a local time that does not exist moves forward with the clock (02:30 is 03:30), and on
/// the fall-back night an hour that happens twice is its first occurrence. A window that closes at or before it
/// opens runs into the next day.
public struct OpenCloseSchedule: Sendable {
    /// Minutes since local midnight.
    public struct Hours: Sendable, Equatable {
        public var opens: Int
        public var closes: Int

        public init(opens: Int, closes: Int) {
            self.opens = opens
            self.closes = closes
        }

        /// `HH:MM` (the schema's `time_of_day`); nil for anything else.
        public init?(opens: String, closes: String) {
            guard let open = Self.minutes(opens), let close = Self.minutes(closes) else { return nil }
            self.init(opens: open, closes: close)
        }

        static func minutes(_ text: String) -> Int? {
            let parts = text.split(separator: ":")
            guard parts.count == 2, let hour = Int(parts[0]), let minute = Int(parts[1]), (0..<24).contains(hour), (0..<60).contains(minute)
            else { return nil }
            return hour * 60 + minute
        }
    }

    public struct Weekly: Sendable, Equatable {
        /// 1 Monday ... 7 Sunday (ISO 8601).
        public var weekday: Int
        public var hours: Hours

        public init(weekday: Int, hours: Hours) {
            self.weekday = weekday
            self.hours = hours
        }
    }

    /// A local calendar day.
    public struct Day: Sendable, Hashable, Comparable {
        public var year: Int
        public var month: Int
        public var day: Int

        public init(year: Int, month: Int, day: Int) {
            self.year = year
            self.month = month
            self.day = day
        }

        /// A PostgreSQL `date` as decoded (midnight UTC of that day).
        public init(storedDate: Date) {
            var utc = Calendar(identifier: .gregorian)
            utc.timeZone = TimeZone(identifier: "UTC")!
            let parts = utc.dateComponents([.year, .month, .day], from: storedDate)
            self.init(year: parts.year!, month: parts.month!, day: parts.day!)
        }

        public static func < (lhs: Day, rhs: Day) -> Bool { (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day) }
    }

    public struct Exception: Sendable, Equatable {
        public var startsOn: Day
        public var endsOn: Day
        /// Nil: closed all day.
        public var hours: Hours?

        public init(startsOn: Day, endsOn: Day, hours: Hours?) {
            self.startsOn = startsOn
            self.endsOn = endsOn
            self.hours = hours
        }

        func covers(_ day: Day) -> Bool { startsOn <= day && day <= endsOn }
    }

    public let timeZone: TimeZone
    public let weekly: [Weekly]
    /// Most specific first: the partition's own exceptions, then the site's.
    public let exceptions: [Exception]
    private let calendar: Calendar

    public init(timeZone: TimeZone, weekly: [Weekly], exceptions: [Exception]) {
        self.timeZone = timeZone
        self.weekly = weekly
        self.exceptions = exceptions
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.calendar = calendar
    }

    /// The window `instant` is in, if any.
    public func window(containing instant: Date) -> DateInterval? {
        windows(around: instant).first { $0.start <= instant && instant < $0.end }
    }

    public func isOpen(at instant: Date) -> Bool { window(containing: instant) != nil }

    /// The windows of the local days from two before `instant` to one after, in order.
    public func windows(around instant: Date) -> [DateInterval] {
        let today = day(of: instant)
        return (-2...1).flatMap { offset in windows(on: adding(offset, to: today)) }.sorted { $0.start < $1.start }
    }

    /// The windows that open on `day` (one may close the next day).
    public func windows(on day: Day) -> [DateInterval] {
        let hours: [Hours]
        if let exception = exceptions.first(where: { $0.covers(day) }) {
            hours = exception.hours.map { [$0] } ?? []
        } else {
            let weekday = isoWeekday(of: day)
            hours = weekly.filter { $0.weekday == weekday }.map(\.hours)
        }
        return hours.compactMap { hours in
            guard let start = instant(day, minutes: hours.opens),
                  let end = hours.closes > hours.opens ? instant(day, minutes: hours.closes) : instant(adding(1, to: day), minutes: hours.closes),
                  end > start else { return nil }
            return DateInterval(start: start, end: end)
        }
    }

    public func day(of instant: Date) -> Day {
        let parts = calendar.dateComponents([.year, .month, .day], from: instant)
        return Day(year: parts.year!, month: parts.month!, day: parts.day!)
    }

    func adding(_ days: Int, to day: Day) -> Day {
        var noon = DateComponents(year: day.year, month: day.month, day: day.day, hour: 12)
        noon.timeZone = timeZone
        let date = calendar.date(from: noon).flatMap { calendar.date(byAdding: .day, value: days, to: $0) } ?? Date()
        return self.day(of: date)
    }

    func isoWeekday(of day: Day) -> Int {
        let noon = instant(day, minutes: 12 * 60) ?? Date()
        // Calendar: 1 Sunday ... 7 Saturday.
        let weekday = calendar.component(.weekday, from: noon)
        return weekday == 1 ? 7 : weekday - 1
    }

    func instant(_ day: Day, minutes: Int) -> Date? {
        calendar.date(from: DateComponents(year: day.year, month: day.month, day: day.day, hour: minutes / 60, minute: minutes % 60))
    }
}
