import Foundation
import Generated
import Logging
import Messaging
import PostgresNIO
import Redis
import Satel
import StamCore
import Testing
import TestSupport
import Worker

/// The worker end to end on a simulator and real PostgreSQL, Redis and RabbitMQ.
@Suite(.workerStack, .serialized, .integration, .tags(.integration)) struct WorkerEndToEndTests {
    @Test func zoneViolationOnArmedPartitionRaisesExactlyOneAlarm() async throws {
        let fixture = try await WorkerFixture.make(panels: 1)
        defer { Task { await fixture.stop() } }
        let panelID = fixture.panelIDs[0]
        let simulated = try #require(fixture.simulator.panels.first)
        try await fixture.withWorker { worker in
            try await fixture.waitUntilAllConnected()
            try await simulated.perform(.armAtKeypad(partitions: [1], mode: .mode0, user: 1))
            try await eventually("partition 1 armed in the database") {
                try await fixture.strings("SELECT arm_mode FROM partitions WHERE panel_id = '\(panelID)' AND number = 1") == ["mode0"]
            }
            try await simulated.perform(.violateZone(1))
            try await eventually("an alarm row") {
                try await fixture.int("SELECT count(*)::int FROM alarms") >= 1
            }
            try await eventually("zone 1 in alarm in the live state") {
                let hash = try await fixture.redisHash(PanelLiveState.key(of: panelID))
                return hash.isEmpty ? false : try PanelLiveState(hash: hash).zones.contains { $0.number == 1 && $0.state == "alarm" }
            }
            // The zone restores; the restore record is history, not a second alarm.
            try await simulated.perform(.restoreZone(1))
            let records = try await simulated.inspect { $0.eventLog.count }
            try await eventually("every event-log record stored") {
                try await fixture.int("SELECT count(*)::int FROM panel_events WHERE source = 'event_log'") == records
            }
            #expect(worker.metrics.render().contains("stam_worker_panels_owned 1"))
        }
        #expect(try await fixture.int("SELECT count(*)::int FROM alarms") == 1)
        #expect(try await fixture.strings("SELECT kind || '/' || priority || '/' || zone_number || '/' || partition_number FROM alarms")
                == ["burglary/burglary/1/1"])
        #expect(try await fixture.int("""
            SELECT count(*)::int FROM alarms a JOIN panel_events e ON e.id = a.panel_event_id WHERE e.event_code = 130 AND NOT e.restore
            """) == 1)
        #expect(try await fixture.int("SELECT count(*)::int FROM panel_events WHERE event_code = 130 AND NOT restore") == 1)
        #expect(try await fixture.int("SELECT count(*)::int FROM outbox WHERE event_name = 'AlarmRaised'") == 1)
        #expect(try await fixture.int("SELECT count(*)::int FROM outbox WHERE event_name = 'PartitionArmed'") == 1)
        #expect(try await fixture.int("""
            SELECT count(*)::int FROM outbox WHERE event_name = 'ZoneStateChanged' AND payload->>'zone_number' = '1' AND payload->>'state' = 'alarm'
            """) == 1)
        let recorded = try await fixture.int("""
            SELECT count(*)::int FROM outbox WHERE event_name = 'PanelEventRecorded' AND payload->>'source' = 'event_log'
            """)
        #expect(try await recorded == fixture.int("SELECT count(*)::int FROM panel_events WHERE source = 'event_log'"))
        // The cursor is the newest stored record.
        #expect(try await fixture.int("""
            SELECT count(*)::int FROM panels p JOIN panel_events e ON e.panel_id = p.id AND e.log_index = p.event_log_cursor
            """) == 1)
        // Read through the contract the backend reads it with.
        let state = try PanelLiveState(hash: try await fixture.redisHash(PanelLiveState.key(of: panelID)))
        #expect(state.partitions.contains { $0.armMode == "mode0" })
        #expect(state.worker == "w1")
    }

    /// Issue 18 point 4: an INTEGRA changes a record's monitoring-status bits (S1/S2) once it has reported the
    /// event to a monitoring station. Read again (the next walk reaching its cursor, a takeover re-reading from the
    /// stored cursor), the record is the same event: no second alarm, no second panel event.
    @Test func aRecordReportedToAStationIsStillTheSameEvent() async throws {
        let fixture = try await WorkerFixture.make(panels: 1)
        defer { Task { await fixture.stop() } }
        let simulated = try #require(fixture.simulator.panels.first)
        func stored() async throws -> Int { try await fixture.int("SELECT count(*)::int FROM panel_events WHERE source = 'event_log'") }
        var records = 0
        try await fixture.withWorker { _ in
            try await fixture.waitUntilAllConnected()
            try await simulated.perform(.armAtKeypad(partitions: [1], mode: .mode0, user: 1))
            try await eventually("partition 1 armed in the database") {
                try await fixture.strings("SELECT arm_mode FROM partitions WHERE panel_id = '\(fixture.panelIDs[0])' AND number = 1") == ["mode0"]
            }
            try await simulated.perform(.violateZone(1))
            try await eventually("an alarm row") { try await fixture.int("SELECT count(*)::int FROM alarms") == 1 }
            records = try await simulated.inspect { $0.eventLog.count }
            try await eventually("every event-log record stored") { try await stored() == records }

            // Reported to station 1: every record's bytes change. A new record makes the walker go back to its cursor.
            try await simulated.perform(.reportToStation(1))
            #expect(try await simulated.inspect { $0.eventLog.newestFirst.allSatisfy { $0.monitoringStation1 == .sent } })
            try await simulated.perform(.logEvent(code: 1019, restore: false, partition: 1, source: 3))
            try await eventually("the new record stored") { try await stored() >= records + 1 }
            try await Task.sleep(for: .seconds(1))
        }
        #expect(try await stored() == records + 1)
        #expect(try await fixture.int("SELECT count(*)::int FROM alarms") == 1)

        // A takeover: the next session starts from the stored cursor, whose bytes predate the report to station 2.
        try await simulated.perform(.reportToStation(2))
        try await fixture.withWorker("w2") { _ in
            try await fixture.waitUntilAllConnected()
            try await simulated.perform(.logEvent(code: 1019, restore: false, partition: 1, source: 4))
            try await eventually("the second new record stored") { try await stored() >= records + 2 }
            try await Task.sleep(for: .seconds(1))
        }
        #expect(try await stored() == records + 2)
        #expect(try await fixture.int("SELECT count(*)::int FROM alarms") == 1)
        #expect(try await fixture.int("SELECT count(*)::int FROM outbox WHERE event_name = 'AlarmRaised'") == 1)
        #expect(try await fixture.int("SELECT count(*)::int FROM panel_events WHERE source = 'event_log' AND log_index IS NULL") == 0)
    }

    /// A stored cursor whose panel event is gone (deleted here by hand, as an admin's clean-up or a partial restore
    /// would): the next session reads every record after the cursor's index, those logged while nobody watched
    /// included. It started at the newest record instead, and every record in between was skipped without a word.
    @Test func aCursorWhoseRecordIsGoneResumesAfterItsIndex() async throws {
        let fixture = try await WorkerFixture.make(panels: 1)
        defer { Task { await fixture.stop() } }
        let simulated = try #require(fixture.simulator.panels.first)
        let panelID = fixture.panelIDs[0]
        func storedSources() async throws -> [String] {
            try await fixture.strings("SELECT source_number::text FROM panel_events WHERE source = 'event_log' AND source_number > 100 ORDER BY log_index")
        }
        try await fixture.withWorker { _ in
            try await fixture.waitUntilAllConnected()
            try await simulated.perform(.logEvent(code: 1019, restore: false, partition: 1, source: 101))
            try await eventually("the record stored, the cursor on it") {
                try await fixture.int("""
                    SELECT count(*)::int FROM panels p JOIN panel_events e ON e.panel_id = p.id AND e.log_index = p.event_log_cursor
                    WHERE e.source_number = 101
                    """) == 1
            }
        }
        #expect(try await fixture.int("""
            WITH gone AS (DELETE FROM panel_events WHERE panel_id = '\(panelID)' AND log_index = (SELECT event_log_cursor FROM panels WHERE id = '\(panelID)') RETURNING 1)
            SELECT count(*)::int FROM gone
            """) == 1)
        for source in 102...104 {
            try await simulated.perform(.logEvent(code: 1019, restore: false, partition: 1, source: source))
        }
        try await fixture.withWorker("w2") { _ in
            try await fixture.waitUntilAllConnected()
            try await eventually("the newest record stored") { try await storedSources().last == "104" }
            try await Task.sleep(for: .seconds(1))
        }
        #expect(try await storedSources() == ["102", "103", "104"])
        #expect(try await fixture.int("SELECT count(*)::int FROM alarms WHERE kind = 'technical'") == 0, "no gap: the ring did not wrap")
    }

    @Test func redisFlushAllBringsTheLiveStateBack() async throws {
        let fixture = try await WorkerFixture.make(panels: 3)
        defer { Task { await fixture.stop() } }
        let keys = fixture.panelIDs.map(PanelLiveState.key(of:))
        try await fixture.withWorker { _ in
            try await fixture.waitUntilAllConnected()
            try await fixture.simulator.panels[1].perform(.setOutput(2, on: true))
            try await eventually("live state of every panel") {
                for key in keys where try await fixture.redisHash(key)["connection"] != "connected" { return false }
                return true
            }
            try await eventually("output 2 of panel 2 in the live state") {
                try await fixture.redisHash(keys[1])["outputs"] == "[2]"
            }
            let redis = RedisClient(configuration: fixture.stack.redisConfiguration, logger: fixture.logger)
            try await redis.flushAll()
            #expect(try await fixture.redisHash(keys[1]).isEmpty)
            await redis.close()
            // Leases and fence counters went too: the worker re-acquires, repairs the fences, re-reads.
            try await eventually("live state rebuilt after FLUSHALL") {
                for key in keys where try await fixture.redisHash(key)["connection"] != "connected" { return false }
                return try await fixture.redisHash(keys[1])["outputs"] == "[2]"
            }
        }
    }
}
