import Alarms
import Foundation
import Testing

/// The schedule evaluator alone: weekly windows in Europe/Warsaw, overnight windows, the two DST nights of 2026,
/// holidays and temporary changes.
@Suite struct OpenCloseScheduleTests {
    static let warsaw = TimeZone(identifier: "Europe/Warsaw")!

    static func utc(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    static func weekdays(_ opens: String, _ closes: String, days: ClosedRange<Int> = 1...5) -> [OpenCloseSchedule.Weekly] {
        days.map { .init(weekday: $0, hours: OpenCloseSchedule.Hours(opens: opens, closes: closes)!) }
    }

    @Test func weekdayWindowsAreInTheSitesLocalTime() {
        let schedule = OpenCloseSchedule(timeZone: Self.warsaw, weekly: Self.weekdays("08:00", "18:00"), exceptions: [])
        // Monday 7 December 2026, CET (UTC+1).
        #expect(!schedule.isOpen(at: Self.utc("2026-12-07T06:59:00Z")))
        #expect(schedule.isOpen(at: Self.utc("2026-12-07T07:00:00Z")))
        #expect(schedule.isOpen(at: Self.utc("2026-12-07T16:59:59Z")))
        #expect(!schedule.isOpen(at: Self.utc("2026-12-07T17:00:00Z")), "the window ends at 18:00, exclusive")
        // Saturday: no window.
        #expect(!schedule.isOpen(at: Self.utc("2026-12-12T10:00:00Z")))
        #expect(schedule.window(containing: Self.utc("2026-12-08T12:00:00Z"))
            == DateInterval(start: Self.utc("2026-12-08T07:00:00Z"), end: Self.utc("2026-12-08T17:00:00Z")))
    }

    @Test func aWindowThatClosesBeforeItOpensRunsPastMidnight() {
        // Saturday 22:00 to Sunday 06:00 (a night shift).
        let schedule = OpenCloseSchedule(timeZone: Self.warsaw, weekly: Self.weekdays("22:00", "06:00", days: 6...6), exceptions: [])
        #expect(schedule.isOpen(at: Self.utc("2026-12-12T21:00:00Z")))   // Sat 22:00 local
        #expect(schedule.isOpen(at: Self.utc("2026-12-13T04:59:00Z")))   // Sun 05:59 local
        #expect(!schedule.isOpen(at: Self.utc("2026-12-13T05:00:00Z")))  // Sun 06:00 local
        #expect(!schedule.isOpen(at: Self.utc("2026-12-11T21:00:00Z")))  // Friday night: not Saturday's window
    }

    @Test func windowsAreRightAcrossBothDSTNights() {
        let sunday = Self.weekdays("01:00", "05:00", days: 7...7) + Self.weekdays("08:00", "18:00", days: 7...7)
        let schedule = OpenCloseSchedule(timeZone: Self.warsaw, weekly: sunday, exceptions: [])
        // 29 March 2026: 02:00 CET becomes 03:00 CEST. 01:00-05:00 local is three hours long.
        let spring = schedule.windows(on: .init(year: 2026, month: 3, day: 29))
        #expect(spring == [
            DateInterval(start: Self.utc("2026-0329T00:00:00Z".replacingOccurrences(of: "03", with: "03-", options: [], range: nil).isEmpty ? "" : "2026-03-29T00:00:00Z"),
                         end: Self.utc("2026-03-29T03:00:00Z")),
            DateInterval(start: Self.utc("2026-03-29T06:00:00Z"), end: Self.utc("2026-03-29T16:00:00Z")),
        ])
        #expect(spring.first?.duration == TimeInterval(3 * 3600))
        // 25 October 2026: 03:00 CEST becomes 02:00 CET. 01:00-05:00 local is five hours long.
        let autumn = schedule.windows(on: .init(year: 2026, month: 10, day: 25))
        #expect(autumn.first == DateInterval(start: Self.utc("2026-10-24T23:00:00Z"), end: Self.utc("2026-10-25T04:00:00Z")))
        #expect(autumn.first?.duration == TimeInterval(5 * 3600))
        #expect(autumn.last == DateInterval(start: Self.utc("2026-10-25T07:00:00Z"), end: Self.utc("2026-10-25T17:00:00Z")))
        // A local time the spring-forward night skips moves forward with the clock: 02:30 is 03:30 CEST.
        let skipped = OpenCloseSchedule(timeZone: Self.warsaw, weekly: Self.weekdays("02:30", "04:00", days: 7...7), exceptions: [])
        #expect(skipped.windows(on: .init(year: 2026, month: 3, day: 29)).first?.start == Self.utc("2026-03-29T01:30:00Z"))
    }

    @Test func holidaysCloseAndTemporaryChangesReplaceTheWeeklyHours() {
        let exceptions = [
            // Christmas Eve to Boxing Day: closed.
            OpenCloseSchedule.Exception(startsOn: .init(year: 2026, month: 12, day: 24), endsOn: .init(year: 2026, month: 12, day: 26), hours: nil),
            // This Friday only 10:00-14:00.
            OpenCloseSchedule.Exception(startsOn: .init(year: 2026, month: 12, day: 11), endsOn: .init(year: 2026, month: 12, day: 11),
                                        hours: .init(opens: "10:00", closes: "14:00")),
        ]
        let schedule = OpenCloseSchedule(timeZone: Self.warsaw, weekly: Self.weekdays("08:00", "18:00"), exceptions: exceptions)
        #expect(!schedule.isOpen(at: Self.utc("2026-12-24T10:00:00Z")), "Thursday, a holiday")
        #expect(schedule.isOpen(at: Self.utc("2026-12-23T10:00:00Z")), "the day before is a normal Wednesday")
        #expect(!schedule.isOpen(at: Self.utc("2026-12-11T08:00:00Z")), "09:00 on the changed Friday")
        #expect(schedule.isOpen(at: Self.utc("2026-12-11T10:00:00Z")), "11:00 on the changed Friday")
        #expect(!schedule.isOpen(at: Self.utc("2026-12-11T13:00:00Z")), "14:00 on the changed Friday")
        #expect(schedule.isOpen(at: Self.utc("2026-12-18T16:00:00Z")), "the next Friday: weekly hours again (the change lapsed)")
    }
}
