import Alarms
import Database
import Foundation
import Generated
import Logging
import Outbox
import Persistence
import PostgresNIO
import TestSupport
import Testing

/// Open/close supervision against a real PostgreSQL with a controlled clock. The partition's arm mode and
/// `disarmed_at` are set as the worker writes them (WorkerTests drive a real disarm at the simulated keypad).
@Suite(.postgres, .serialized, .integration, .tags(.integration)) struct ScheduleSupervisorTests {
    let logger = Logger(label: "schedule-supervisor-tests")

    static func utc(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    struct Station: Sendable {
        var client: PostgresClient
        var repositories: Repositories
        var site: Site
        var partition: Partition
        var logger: Logger

        var supervisor: ScheduleSupervisor { ScheduleSupervisor(client: client, repositories: repositories, notifier: nil, logger: logger) }

        /// What the worker writes when it sees the partition disarmed (or armed).
        func disarm(at time: Date) async throws {
            _ = try await repositories.partitions.update(id: partition.id, set: [.armMode(.disarmed), .disarmedAt(time)])
        }

        func arm() async throws {
            _ = try await repositories.partitions.update(id: partition.id, set: [.armMode(.mode0), .disarmedAt(nil)])
        }

        func alarms() async throws -> [String] {
            try await repositories.alarms.list(filter: .init(siteId: site.id), sort: .raisedAt, limit: 50).items
                .map { "\($0.kind.rawValue) \($0.priority.rawValue) \($0.title)\($0.restoredAt == nil ? "" : " (restored)")" }
        }
    }

    /// Monday to Friday 08:00-18:00 in Warsaw, 15 minutes' grace, a holiday on Tuesday 8 December 2026.
    func withStation(_ body: @Sendable (Station) async throws -> Void) async throws {
        let postgres = try #require(TestPostgres.current)
        let database = try await postgres.migratedDatabase(logger: logger)
        let logger = logger
        try await TestPostgres.withClient(database, logger: logger) { client in
            let repositories = Repositories(context: DatabaseContext(client: client, secrets: try SecretBox.random(), logger: logger))
            let site = try await repositories.sites.insert(Site(code: "S1", name: "Shop", timeZone: "Europe/Warsaw", closeGraceMinutes: 15))
            let panel = try await repositories.panels.insert(Panel(siteId: site.id, name: "Main", host: "10.0.0.2"))
            let partition = try await repositories.partitions.insert(Partition(panelId: panel.id, number: 1, name: "Partition 1", description: "Sales floor",
                                                                               armMode: .mode0))
            for weekday in 1...5 {
                _ = try await repositories.scheduleWindows.insert(ScheduleWindow(partitionId: partition.id, weekday: weekday, opens: "08:00", closes: "18:00"))
            }
            _ = try await repositories.scheduleExceptions.insert(ScheduleException(
                siteId: site.id, startsOn: Self.utc("2026-12-08T00:00:00Z"), endsOn: Self.utc("2026-12-08T00:00:00Z"), reason: "Stocktaking: closed"))
            try await body(Station(client: client, repositories: repositories, site: site, partition: partition, logger: logger))
        }
    }

    @Test func anOpeningOutOfHoursRaisesOnceAndArmingRestoresIt() async throws {
        try await withStation { station in
            // Monday 7 December 2026, 06:40 local (05:40Z): before the window.
            try await station.disarm(at: Self.utc("2026-12-07T05:40:00Z"))
            #expect(try await station.supervisor.superviseDue(asOf: Self.utc("2026-12-07T05:40:30Z")) == .init(outOfHours: 1))
            #expect(try await station.supervisor.superviseDue(asOf: Self.utc("2026-12-07T05:45:00Z")) == .init(), "one alarm per disarmed spell")
            // Still disarmed when the window opens and through the day: that spell already has its alarm.
            #expect(try await station.supervisor.superviseDue(asOf: Self.utc("2026-12-07T17:30:00Z")) == .init())
            try await station.arm()
            #expect(try await station.supervisor.superviseDue(asOf: Self.utc("2026-12-07T17:31:00Z")) == .init(restored: 1))
            #expect(try await station.alarms() == ["opening_out_of_hours open_close Opening out of hours - Sales floor: disarmed Mon 06:40 outside its hours (restored)"])
        }
    }

    @Test func aPartitionStillDisarmedAfterItsWindowAndGraceIsLateToClose() async throws {
        try await withStation { station in
            // Opened at 08:05 local (07:05Z), inside the window.
            try await station.disarm(at: Self.utc("2026-12-07T07:05:00Z"))
            #expect(try await station.supervisor.superviseDue(asOf: Self.utc("2026-12-07T12:00:00Z")) == .init(), "open within its hours")
            #expect(try await station.supervisor.superviseDue(asOf: Self.utc("2026-12-07T17:14:00Z")) == .init(), "18:14: within the grace")
            #expect(try await station.supervisor.superviseDue(asOf: Self.utc("2026-12-07T17:15:00Z")) == .init(lateToClose: 1))
            #expect(try await station.supervisor.superviseDue(asOf: Self.utc("2026-12-07T20:00:00Z")) == .init())
            #expect(try await station.alarms() == ["late_to_close open_close Late to close - Sales floor: still disarmed 15 min after its hours ended at Mon 18:00"])
        }
    }

    @Test func aHolidayMakesEveryOpeningOutOfHoursAndTwoSupervisorsRaiseOnce() async throws {
        try await withStation { station in
            // Tuesday 8 December, the stocktaking holiday, 10:00 local.
            try await station.disarm(at: Self.utc("2026-12-08T09:00:00Z"))
            let client = station.client
            let repositories = station.repositories
            let logger = station.logger
            let raised = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<3 {
                    group.addTask {
                        try await ScheduleSupervisor(client: client, repositories: repositories, notifier: nil, logger: logger)
                            .superviseDue(asOf: Self.utc("2026-12-08T09:01:00Z")).outOfHours
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(raised == 1)
            #expect(try await station.alarms().count == 1)
        }
    }

    @Test func theVerdictIsFineInsideAWindowAndWithinTheGrace() {
        let schedule = OpenCloseSchedule(timeZone: TimeZone(identifier: "Europe/Warsaw")!,
                                         weekly: [.init(weekday: 1, hours: .init(opens: 8 * 60, closes: 18 * 60))], exceptions: [])
        let monday = { (time: String) in Self.utc("2026-12-07T\(time):00Z") }
        #expect(ScheduleSupervisor.verdict(schedule: schedule, disarmedAt: monday("07:30"), now: monday("12:00"), grace: .seconds(900)) == .fine)
        #expect(ScheduleSupervisor.verdict(schedule: schedule, disarmedAt: monday("07:30"), now: monday("17:20"), grace: .seconds(900))
            == .lateToClose(windowEnded: monday("17:00")))
        #expect(ScheduleSupervisor.verdict(schedule: schedule, disarmedAt: monday("17:05"), now: monday("17:06"), grace: .seconds(900)) == .outOfHours,
                "disarmed after the window closed: an opening, not a late closing")
        #expect(ScheduleSupervisor.verdict(schedule: schedule, disarmedAt: nil, now: monday("03:00"), grace: .seconds(900)) == .outOfHours)
    }
}
