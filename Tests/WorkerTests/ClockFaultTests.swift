import Foundation
import DevStack
import Satel
import TestSupport
import Testing
import Worker

/// docs/RELIABILITY.md, panel/worker clocks and worker clock: a real `stam worker` whose wall clock jumps 15 minutes
/// back, then 2 hours ahead (`FakeClock`; the monotonic clock left alone, as an NTP step leaves it). Command expiry,
/// the outcome-unknown grace and the alarm's `raised_at`, which the SMS correlation compares, are all the database's
/// time, so neither a clock behind nor one ahead changes what happens to a command or doubles an incident's alarm.
extension WorkerEndToEndTests {
    @Test(.timeLimit(.minutes(3))) func aWorkerWhoseClockJumpsKeepsCommandsAndAlarmsInDatabaseTime() async throws {
        let fixture = try await WorkerFixture.make(panels: 1)
        defer { Task { await fixture.stop() } }
        let panelID = fixture.panelIDs[0]
        let simulated = try #require(fixture.simulator.panels.first)
        try await fixture.execute("UPDATE panels SET sim_phone = '+48 600 100 301' WHERE id = '\(panelID)'")
        try await fixture.execute("INSERT INTO sms_alarm_patterns (pattern, kind, priority) VALUES ('alarm', 'burglary', 'burglary')")
        let clock = try FakeClock(directory: fixture.secretsDirectory)
        let worker = try fixture.child("jumpy", metricsPort: try FreePort.find(), environment: clock.environment)
        defer { worker.stop(signal: SIGKILL) }
        let inbox = SmsInbox(fixture)
        func alarms() async throws -> [String] {
            try await fixture.strings("""
                SELECT kind || '/' || reports || '/' || (abs(extract(epoch FROM raised_at - now())) < 120)::text FROM alarms ORDER BY raised_at
                """)
        }
        try await inbox.consuming {
            try await fixture.waitUntilAllConnected()
            try await simulated.perform(.armAtKeypad(partitions: [1], mode: .mode0, user: 1))
            try await eventually("partition 1 armed") {
                try await fixture.strings("SELECT arm_mode FROM partitions WHERE panel_id = '\(panelID)' AND number = 1") == ["mode0"]
            }
            for (offset, zone) in [(Duration.seconds(-15 * 60), 1), (.seconds(2 * 3600), 2)] {
                try clock.jump(by: offset)
                try await Task.sleep(for: .seconds(2))
                // A command with 20 s left runs; one already past its expiry never does.
                let live = try await request(fixture, panel: panelID, kind: .outputsSwitch, targets: [zone], expiresIn: 20)
                let dead = try await request(fixture, panel: panelID, kind: .outputsSwitch, targets: [zone + 10], expiresIn: -1)
                try await eventually("clock \(offset): the live command ran") { try await status(fixture, live) == "succeeded/255" }
                try await eventually("clock \(offset): the dead command expired") { try await status(fixture, dead) == "expired/-" }

                // The worker raises the alarm from the event log, then the panel's GSM module reports it by SMS:
                // one alarm, two reports, raised at the database's now whatever the worker's clock says.
                try await simulated.perform(.violateZone(zone))
                try await eventually("clock \(offset): the event-log alarm") { try await alarms().last == "burglary/1/true" }
                let sms = try await inbox.send(from: "+48600100301", "ALARM strefa \(zone)")
                try await eventually("clock \(offset): the SMS stored") {
                    try await fixture.int("SELECT count(*)::int FROM sms_messages WHERE id = '\(sms)' AND alarm_id IS NOT NULL") == 1
                }
                #expect(try await alarms().last == "burglary/2/true", "clock \(offset)")
                // Closed, so the next incident raises its own alarm rather than joining this one.
                try await fixture.execute("UPDATE alarms SET state = 'closed', closed_at = now()")
            }
        }
        await inbox.close()
        #expect(try await simulated.inspect { $0.bitmaps[.outputsState]!.numbers == [1, 2] })
        #expect(try await fixture.int("SELECT count(*)::int FROM alarms") == 2)
        #expect(try await fixture.int("SELECT count(*)::int FROM outbox WHERE event_name = 'AlarmRaised'") == 2)
    }
}
