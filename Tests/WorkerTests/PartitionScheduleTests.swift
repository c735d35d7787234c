import Alarms
import Database
import Foundation
import Generated
import Persistence
import PostgresNIO
import TestSupport
import Testing
import Worker

/// Issue 20 point 6 with a real worker: a partition disarmed at the simulated panel's keypad inside its window is
/// written with `disarmed_at`; left disarmed past the window's end and the site's grace it is late to close (the
/// judging instant controlled, the disarm real); armed again at the keypad, the alarm is restored.
extension WorkerEndToEndTests {
    @Test(.timeLimit(.minutes(3))) func aPartitionLeftDisarmedPastItsWindowIsLateToClose() async throws {
        let fixture = try await WorkerFixture.make(panels: 1)
        defer { Task { await fixture.stop() } }
        let panel = fixture.panelIDs[0]
        let logger = fixture.logger
        try await TestPostgres.withClient(fixture.database, logger: logger) { client in
            let repositories = Repositories(context: DatabaseContext(client: client, secrets: fixture.secrets, logger: logger))
            let supervisor = ScheduleSupervisor(client: client, repositories: repositories, notifier: nil, logger: logger)
            try await fixture.withWorker { _ in
                let simulated = fixture.simulator.panels[0]
                try await simulated.perform(.armAtKeypad(partitions: [1], mode: .mode0, user: 1))
                try await eventually("partition 1 armed") {
                    try await fixture.strings("SELECT arm_mode || ' ' || (disarmed_at IS NULL)::text FROM partitions WHERE panel_id = '\(panel)' AND number = 1")
                        == ["mode0 true"]
                }
                // A window from an hour ago to two minutes from now, in the site's zone (Europe/Warsaw by default).
                let now = try #require(try await client.query("SELECT now()", logger: logger).collect().first?.decode(Date.self))
                var warsaw = Calendar(identifier: .gregorian)
                warsaw.timeZone = TimeZone(identifier: "Europe/Warsaw")!
                func hhmm(_ date: Date) -> String {
                    let parts = warsaw.dateComponents([.hour, .minute], from: date)
                    return String(format: "%02d:%02d", parts.hour!, parts.minute!)
                }
                let opens = now.addingTimeInterval(-3600)
                let weekday = warsaw.component(.weekday, from: opens) == 1 ? 7 : warsaw.component(.weekday, from: opens) - 1
                let partition = try #require(try await repositories.partitions.find(panelId: panel, number: 1))
                _ = try await repositories.scheduleWindows.insert(ScheduleWindow(partitionId: partition.id, weekday: weekday, opens: hhmm(opens),
                                                                                 closes: hhmm(now.addingTimeInterval(180))))

                try await simulated.perform(.disarmAtKeypad(partitions: [1], user: 1))
                try await eventually("partition 1 disarmed, with the time") {
                    try await fixture.strings("SELECT arm_mode || ' ' || (disarmed_at IS NOT NULL)::text FROM partitions WHERE id = '\(partition.id)'")
                        == ["disarmed true"]
                }
                #expect(try await supervisor.superviseDue() == .init(), "disarmed within its window")
                let window = try #require(OpenCloseSchedule(
                    timeZone: warsaw.timeZone, weekly: [.init(weekday: weekday, hours: .init(opens: hhmm(opens), closes: hhmm(now.addingTimeInterval(180)))!)],
                    exceptions: []).window(containing: now.addingTimeInterval(1)))
                #expect(try await supervisor.superviseDue(asOf: window.end.addingTimeInterval(14 * 60)) == .init(), "within the 15 min grace")
                #expect(try await supervisor.superviseDue(asOf: window.end.addingTimeInterval(15 * 60)) == .init(lateToClose: 1))
                #expect(try await fixture.strings("SELECT kind || ' ' || partition_number FROM alarms") == ["late_to_close 1"])

                try await simulated.perform(.armAtKeypad(partitions: [1], mode: .mode0, user: 1))
                try await eventually("partition 1 armed again") {
                    try await fixture.strings("SELECT arm_mode FROM partitions WHERE id = '\(partition.id)'") == ["mode0"]
                }
                #expect(try await supervisor.superviseDue(asOf: window.end.addingTimeInterval(20 * 60)) == .init(restored: 1))
                #expect(try await fixture.int("SELECT count(*)::int FROM alarms WHERE restored_at IS NOT NULL") == 1)
                #expect(try await fixture.int("SELECT count(*)::int FROM partitions WHERE id = '\(partition.id)' AND disarmed_at IS NULL") == 1)
            }
        }
    }
}
