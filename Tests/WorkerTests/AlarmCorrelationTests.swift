import Foundation
import Satel
import Testing
import Worker

/// Issue 18 point 4: an INTEGRA with a GSM module reports one violation twice, in its event log (read by the
/// worker) and by SMS (read by the SMS consumer). Whichever comes first raises the alarm; the other joins it.
extension WorkerEndToEndTests {
    @Test(.timeLimit(.minutes(2))) func anIncidentReportedByTheEventLogAndBySMSIsOneAlarm() async throws {
        let fixture = try await WorkerFixture.make(panels: 2)
        defer { Task { await fixture.stop() } }
        let (eventFirst, smsFirst) = (fixture.panelIDs[0], fixture.panelIDs[1])
        try await fixture.execute("UPDATE panels SET sim_phone = '+48 600 100 201' WHERE id = '\(eventFirst)'")
        try await fixture.execute("UPDATE panels SET sim_phone = '+48 600 100 202' WHERE id = '\(smsFirst)'")
        try await fixture.execute("INSERT INTO sms_alarm_patterns (pattern, kind, priority) VALUES ('alarm', 'burglary', 'burglary')")
        let inbox = SmsInbox(fixture)
        func alarms(_ panel: UUID) async throws -> [String] {
            try await fixture.strings("""
                SELECT kind || '/' || reports || '/' || coalesce(zone_number::text, '-') || '/' || (panel_event_id IS NOT NULL)::text
                FROM alarms WHERE panel_id = '\(panel)'
                """)
        }
        func armed(_ index: Int) async throws {
            let simulated = fixture.simulator.panels[index]
            try await simulated.perform(.armAtKeypad(partitions: [1], mode: .mode0, user: 1))
            try await eventually("partition 1 of panel \(index + 1) armed") {
                try await fixture.strings("SELECT arm_mode FROM partitions WHERE panel_id = '\(fixture.panelIDs[index])' AND number = 1") == ["mode0"]
            }
        }
        try await fixture.withWorker { _ in
            try await inbox.consuming {
                try await fixture.waitUntilAllConnected()
                try await armed(0)
                try await armed(1)

                // The event log first: its alarm; then the SMS joins it.
                try await fixture.simulator.panels[0].perform(.violateZone(1))
                try await eventually("the event-log alarm") { try await alarms(eventFirst) == ["burglary/1/1/true"] }
                let joining = try await inbox.send(from: "+48600100201", "ALARM strefa 1")
                try await eventually("the SMS stored") {
                    try await fixture.int("SELECT count(*)::int FROM sms_messages WHERE id = '\(joining)'") == 1
                }
                #expect(try await alarms(eventFirst) == ["burglary/2/1/true"])

                // The SMS first: its alarm (no zone: an SMS does not say); then the event-log record joins it.
                let raising = try await inbox.send(from: "+48600100202", "ALARM strefa 1")
                try await eventually("the SMS alarm") { try await alarms(smsFirst) == ["burglary/1/-/false"] }
                try await fixture.simulator.panels[1].perform(.violateZone(1))
                try await eventually("the record joined it") { try await alarms(smsFirst) == ["burglary/2/1/true"] }
                #expect(try await fixture.int("""
                    SELECT count(*)::int FROM sms_messages s JOIN alarms a ON a.id = s.alarm_id WHERE s.id IN ('\(joining)', '\(raising)')
                    """) == 2)
            }
        }
        await inbox.close()
        #expect(try await fixture.int("SELECT count(*)::int FROM alarms") == 2)
        #expect(try await fixture.int("SELECT count(*)::int FROM outbox WHERE event_name = 'AlarmRaised'") == 2)
    }
}
