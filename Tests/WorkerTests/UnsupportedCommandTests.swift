import Foundation
import Satel
import Testing
import TestSupport
import Worker

/// Issue 21 point 2 with a real worker: a module that stays silent on one read (older firmware does, for commands it
/// does not know) is still read, polled and raises alarms; the worker says once per connection what it reads without
/// (a log line and `stam_worker_unsupported_commands_total`).
extension WorkerEndToEndTests {
    @Test(.timeLimit(.minutes(2))) func aModuleSilentOnOneReadIsReadWithoutItAndSaysSoOnce() async throws {
        let fixture = try await WorkerFixture.make(panels: 1)
        defer { Task { await fixture.stop() } }
        let panelID = fixture.panelIDs[0]
        let simulated = try #require(fixture.simulator.panels.first)
        try await simulated.perform(.setSilentCommands([StateCommand.zonesTamper.rawValue]))
        try await fixture.withWorker { worker in
            try await fixture.waitUntilAllConnected()
            let counted = #"stam_worker_unsupported_commands_total{command="zones tamper",reason="unanswered"} 1"#
            #expect(worker.metrics.render().contains(counted), "\(worker.metrics.render().split(separator: "\n").filter { $0.contains("unsupported") })")
            try await simulated.perform(.armAtKeypad(partitions: [1], mode: .mode0, user: 1))
            try await eventually("partition 1 armed in the database") {
                try await fixture.strings("SELECT arm_mode FROM partitions WHERE panel_id = '\(panelID)' AND number = 1") == ["mode0"]
            }
            try await simulated.perform(.violateZone(1))
            try await eventually("the alarm of the violation") {
                try await fixture.int("SELECT count(*)::int FROM alarms WHERE kind = 'burglary'") == 1
            }
            // A tamper flags zones tamper again: the worker does not ask (and wait for) it on this connection.
            try await simulated.perform(.tamperZone(2))
            try await Task.sleep(for: .seconds(1))
            #expect(worker.metrics.render().contains(counted), "still once")
            #expect(try await fixture.strings("SELECT connection_state FROM panels WHERE id = '\(panelID)'") == ["connected"])
            let statistics = try await simulated.statistics()
            #expect(statistics.connectionsAccepted == 1, "the link was never dropped")
        }
    }
}
