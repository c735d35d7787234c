import Foundation
import Satel
import SatelSimulator
import Testing
import TestSupport
import Worker

/// Issue 21 point 1 with a real worker, PostgreSQL and Redis: a module that pushes raises its alarm without a single
/// state read after the full read; one that refuses monitoring mode is polled, and the panel row, the metrics and
/// (for a panel configured `push`) the log say so; a panel configured `poll` is never asked. A pushed change and the alarm
/// its record raises are one transaction.
extension WorkerEndToEndTests {
    @Test(.timeLimit(.minutes(2))) func aPushingModuleRaisesItsAlarmWithoutBeingPolledAndARefusingOneIsPolled() async throws {
        let fixture = try await WorkerFixture.make(panels: 3)
        defer { Task { await fixture.stop() } }
        let (pushing, refusing, polled) = (fixture.panelIDs[0], fixture.panelIDs[1], fixture.panelIDs[2])
        try await fixture.simulator.panels[1].perform(.setMonitoringPolicy(.refuse))
        try await fixture.execute("UPDATE panels SET mode = 'push' WHERE id = '\(refusing)'")
        try await fixture.execute("UPDATE panels SET mode = 'poll' WHERE id = '\(polled)'")
        try await fixture.withWorker { worker in
            try await fixture.waitUntilAllConnected()
            try await eventually("every panel's state delivery stored") {
                try await fixture.strings("SELECT state_delivery FROM panels ORDER BY id = '\(pushing)' DESC, id = '\(refusing)' DESC")
                    == ["push", "poll", "poll"]
            }
            let metrics = worker.metrics.render()
            #expect(metrics.contains("stam_worker_panels_pushing 1"), "\(metrics.split(separator: "\n").filter { $0.contains("push") })")
            #expect(metrics.contains(#"stam_worker_push_fallbacks_total{reason="refused"} 1"#))
            #expect(!metrics.contains(#"reason="configured""#), "a panel configured to poll is no fall-back")
            // Polled: its "new data" read comes again after the full read (waited for: a loaded machine polls late).
            try await eventually("the poll panel is polled") {
                try await fixture.simulator.panels[2].statistics().requestsByCommand[SatelCommandCode.newData.rawValue] ?? 0 > 1
            }
            #expect(try await fixture.simulator.panels[2].inspect { $0.monitoring } == nil, "the poll panel was never asked to push")

            // The pushing panel: armed and violated at the keypad; the alarm comes, and the module was asked for no state.
            let simulated = fixture.simulator.panels[0]
            let before = try await simulated.statistics().requestsByCommand
            try await simulated.perform(.armAtKeypad(partitions: [1], mode: .mode0, user: 1))
            // The arm stored before the violation: pushed while the arm's walk still ran, the violation would be released
            // with that walk's records and its own record would follow in a second transaction (a burst is not merged).
            try await eventually("the arm stored") {
                try await fixture.strings("SELECT arm_mode FROM partitions WHERE panel_id = '\(pushing)' AND number = 1") == ["mode0"]
            }
            try await simulated.perform(.violateZone(1))
            try await eventually("the alarm of the violation") {
                try await fixture.int("SELECT count(*)::int FROM alarms WHERE kind = 'burglary' AND panel_id = '\(pushing)'") == 1
            }
            #expect(try await fixture.strings("SELECT arm_mode FROM partitions WHERE panel_id = '\(pushing)' AND number = 1") == ["mode0"])
            // The pushed violation and the alarm its record raised were written by one transaction (the client reports a
            // pushed change with the records of the walk it starts): the alarm did not wait behind a commit of its own.
            let writers = try await fixture.strings("""
                SELECT DISTINCT xmin::text FROM panel_events
                WHERE panel_id = '\(pushing)' AND source = 'state_change' AND description LIKE 'zone 1: normal -> %'
                UNION SELECT DISTINCT xmin::text FROM alarms WHERE panel_id = '\(pushing)' AND kind = 'burglary'
                """)
            #expect(writers.count == 1, "transactions: \(writers)")
            let after = try await simulated.statistics().requestsByCommand
            let stateReads = after.filter { command, count in StateCommand(rawValue: command) != nil && count != before[command] }
            #expect(stateReads.isEmpty, "state read after the full read: \(stateReads)")
            #expect((after[SatelCommandCode.readEvent.rawValue] ?? 0) > (before[SatelCommandCode.readEvent.rawValue] ?? 0), "the log was walked")

            // The refusing panel is polled: its violation comes through all the same.
            try await fixture.simulator.panels[1].perform(.violateZone(2))
            try await eventually("the refusing panel's zone 2 violated") {
                try await fixture.strings("SELECT state FROM zones WHERE panel_id = '\(refusing)' AND number = 2") == ["violated"]
            }
        }
    }
}
