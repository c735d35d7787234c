import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import DevStack
import Redis
import Satel
import Testing

extension WorkerEndToEndTests {
    func metrics(port: Int) async -> String? {
        guard let url = URL(string: "http://127.0.0.1:\(port)/metrics"),
              let (data, _) = try? await URLSession.shared.data(from: url) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// A sample's value (the exposition writes gauges as `2.0`).
    func metric(_ name: String, in text: String?) -> Int? {
        text?.split(separator: "\n").first { $0.hasPrefix("\(name) ") }.flatMap { Double($0.split(separator: " ")[1]) }.map { Int($0) }
    }

    @Test func killedBeforeCommitTheSameEventsAreReadAgainAndStoredOnce() async throws {
        let fixture = try await WorkerFixture.make(panels: 1)
        defer { Task { await fixture.stop() } }
        let simulated = try #require(fixture.simulator.panels.first)
        let marker = "\(fixture.secretsDirectory)/paused"
        let victim = try fixture.child("victim", metricsPort: try FreePort.find(),
                                       environment: ["STAM_WORKER_TEST_PAUSE_BEFORE_COMMIT": marker])
        defer { victim.stop(signal: SIGKILL) }
        try await fixture.waitUntilAllConnected()
        try await simulated.perform(.armAtKeypad(partitions: [1], mode: .mode0, user: 1))
        try await simulated.perform(.violateZone(1))
        // The worker has read the records and written them in its transaction, not committed.
        try await eventually("the worker paused before its commit") { FileManager.default.fileExists(atPath: marker) }
        kill(victim.pid, SIGKILL)
        victim.stop(signal: SIGKILL)
        #expect(try await fixture.int("SELECT count(*)::int FROM panel_events WHERE source = 'event_log'") == 0)
        // The cursor did not move: still "the log was empty when monitoring started".
        #expect(try await fixture.int("SELECT count(*)::int FROM panels WHERE event_log_cursor = -1") == 1)

        let survivor = try fixture.child("survivor", metricsPort: try FreePort.find())
        defer { survivor.stop(signal: SIGKILL) }
        let expected = try await simulated.inspect { $0.eventLog.newestFirst.reversed().map { $0.raw } }
        try await eventually("the same records stored by the next worker") {
            try await fixture.int("SELECT count(*)::int FROM panel_events WHERE source = 'event_log'") >= expected.count
        }
        try await eventually("the alarm raised") { try await fixture.int("SELECT count(*)::int FROM alarms") >= 1 }
        let stored = try await fixture.strings(
            "SELECT encode(raw, 'hex') FROM panel_events WHERE source = 'event_log' ORDER BY occurred_at, log_index")
        #expect(Set(stored) == Set(expected.map { $0.map { String(format: "%02x", $0) }.joined() }))
        #expect(stored.count == expected.count)
        #expect(try await fixture.int("SELECT count(*)::int FROM alarms") == 1)
        #expect(try await fixture.int("SELECT count(*)::int FROM outbox WHERE event_name = 'AlarmRaised'") == 1)
        #expect(try await fixture.int("""
            SELECT count(*)::int FROM outbox WHERE event_name = 'PanelEventRecorded' AND payload->>'source' = 'event_log'
            """) == expected.count)
    }

    @Test func twoWorkersTwentyPanelsOneOwnerEachTakeoverAndFencing() async throws {
        let fixture = try await WorkerFixture.make(panels: 20)
        defer { Task { await fixture.stop() } }
        let (portA, portB) = (try FreePort.find(), try FreePort.find())
        let workerA = try fixture.child("a", metricsPort: portA)
        defer { workerA.stop(signal: SIGKILL) }
        let workerB = try fixture.child("b", metricsPort: portB)
        defer { workerB.stop(signal: SIGKILL) }
        try await fixture.waitUntilAllConnected(within: .seconds(60))
        try await eventually("both workers own panels") {
            let owners = try await fixture.strings("SELECT DISTINCT owner_worker FROM panels WHERE owner_worker IS NOT NULL ORDER BY 1")
            return owners == ["a", "b"]
        }
        // The simulated module turns a second client away with "Busy" and counts it: none came.
        func refused() async throws -> Int {
            var total = 0
            for panel in fixture.simulator.panels { total += try await panel.statistics().connectionsRefused }
            return total
        }
        #expect(try await refused() == 0)
        // B's panels may have come from A a moment ago (the fair share settles after both started): the
        // owner column is written at the claim, the gauge once B's link is synchronized.
        try await eventually("worker B reports connected panels") {
            (metric("stam_worker_panels_connected", in: await metrics(port: portB)) ?? 0) > 0
        }
        let textB = await metrics(port: portB)
        #expect(textB?.contains("stam_worker_poll_latency_seconds_bucket") == true)
        let (_, ready) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(portB)/readyz")!)
        #expect((ready as? HTTPURLResponse)?.statusCode == 200)

        // kill -9 A: B takes its panels over within the lease TTL plus a few seconds.
        let killedAt = ContinuousClock.now
        kill(workerA.pid, SIGKILL)
        workerA.stop(signal: SIGKILL)
        try await eventually("B owns and reads every panel", within: WorkerFixture.leaseTTL + .seconds(10)) {
            let owned = try await fixture.int("SELECT count(*)::int FROM panels WHERE owner_worker = 'b'")
            let connected = try await fixture.int("SELECT count(*)::int FROM panels WHERE connection_state = 'connected'")
            return owned == 20 && connected == 20
        }
        let takeover = ContinuousClock.now - killedAt
        #expect(try await refused() == 0, "a killed worker's sockets close at once: no module saw two clients")
        print("takeover of 10 panels after kill -9: \(takeover)")

        // A third worker joins and takes its share; then it is paused past its TTL and resumed.
        let portC = try FreePort.find()
        let workerC = try fixture.child("c", metricsPort: portC)
        defer { workerC.stop(signal: SIGKILL) }
        try await eventually("C owns a share", within: .seconds(30)) {
            try await fixture.int("SELECT count(*)::int FROM panels WHERE owner_worker = 'c' AND connection_state = 'connected'") >= 5
        }
        let cPanels = try await fixture.strings("SELECT id::text FROM panels WHERE owner_worker = 'c'")
        kill(workerC.pid, SIGSTOP)
        // B takes them once the leases expire and the modules dropped C's idle links (3 s here, 25 s real).
        try await eventually("B took C's panels over", within: .seconds(30)) {
            try await fixture.int("SELECT count(*)::int FROM panels WHERE owner_worker = 'b' AND connection_state = 'connected'") == 20
        }
        let tokensAfterTakeover = try await fixture.int("SELECT min(fencing_token)::int FROM panels WHERE owner_worker = 'b'")
        kill(workerC.pid, SIGCONT)
        // C wakes up, still believing in its old leases for a moment: whatever it tries to write is refused.
        try await eventually("C's writes refused by the fencing check", within: .seconds(20)) {
            (metric("stam_worker_fencing_refusals_total", in: await metrics(port: portC)) ?? 0) >= 1
        }
        try await eventually("C's panels back with their owners", within: .seconds(30)) {
            try await fixture.int("SELECT count(*)::int FROM panels WHERE connection_state = 'connected'") == 20
        }
        #expect(cPanels.count >= 5)
        #expect(tokensAfterTakeover > 0)
        // Once the fleet settles, every panel row names the worker whose lock Redis holds.
        let redis = RedisClient(configuration: fixture.stack.redisConfiguration, logger: fixture.logger)
        try await eventually("row owners match the Redis locks", within: .seconds(30)) {
            for panelID in fixture.panelIDs {
                let owner = try await fixture.strings("SELECT owner_worker FROM panels WHERE id = '\(panelID)'").first ?? ""
                let lock = try await redis.getString("lock:panel:\(panelID.uuidString.lowercased())") ?? ""
                if !lock.hasPrefix("\(owner)/") { return false }
            }
            return true
        }
        await redis.close()
    }
}
