import Foundation
import Generated
import DevStack
import Observability
import Satel
import TestSupport
import Testing
import Worker

/// Issue 18 points 2, 5 and 8: a worker that loses its database, a command whose answer never comes, and the
/// order and bound of a graceful shutdown. The database is cut off by a `TCPRelay` that drops every byte, the way
/// a partition does (nothing is refused, everything waits).
extension WorkerEndToEndTests {
    /// Point 8: on graceful shutdown the sessions write their panels' last connection state before the database
    /// pool closes (postgres-nio's pool stopped on the same signal and the write failed with `poolShutdown`).
    @Test(.timeLimit(.minutes(2))) func gracefulShutdownWritesEachPanelsLastStateBeforeThePoolCloses() async throws {
        let fixture = try await WorkerFixture.make(panels: 2)
        defer { Task { await fixture.stop() } }
        try await fixture.withWorker { _ in
            try await fixture.waitUntilAllConnected()
        }
        #expect(try await fixture.strings("SELECT connection_state FROM panels ORDER BY id") == ["disconnected", "disconnected"])
    }

    /// Point 2: a worker cut off from PostgreSQL gives its panel up after `databaseOutageLimit`, so a worker that
    /// reaches the database takes it over and raises the alarm the cut-off one could not commit; the cut-off
    /// worker's own shutdown ends within its bound although every database call it makes hangs.
    @Test(.timeLimit(.minutes(2))) func aWorkerCutOffFromPostgreSQLGivesItsPanelToOneThatReachesIt() async throws {
        let fixture = try await WorkerFixture.make(panels: 1)
        defer { Task { await fixture.stop() } }
        let panelID = fixture.panelIDs[0]
        let simulated = try #require(fixture.simulator.panels.first)
        let relay = try TCPRelay(to: fixture.stack.postgres.port)
        defer { relay.close() }
        try await fixture.withWorker("cut-off", through: relay) { cutOff in
            try await fixture.waitUntilAllConnected()
            #expect(cutOff.ownedPanels == [panelID])
            try await simulated.perform(.armAtKeypad(partitions: [1], mode: .mode0, user: 1))
            try await eventually("partition 1 armed in the database") {
                try await fixture.strings("SELECT arm_mode FROM partitions WHERE panel_id = '\(panelID)' AND number = 1") == ["mode0"]
            }
            try await fixture.withWorker("healthy") { healthy in
                relay.cut()
                try await simulated.perform(.violateZone(1))
                try await eventually("the healthy worker owns the panel", within: .seconds(60)) { healthy.ownedPanels == [panelID] }
                try await eventually("the alarm raised") { try await fixture.int("SELECT count(*)::int FROM alarms") == 1 }
                #expect(cutOff.ownedPanels.isEmpty)
                #expect(cutOff.metrics.render().contains("stam_worker_panels_owned 0"))
            }
        }
        #expect(try await fixture.int("SELECT count(*)::int FROM alarms") == 1)
        #expect(try await fixture.int("SELECT count(*)::int FROM outbox WHERE event_name = 'AlarmRaised'") == 1)
    }

    /// A database outage longer than `databaseOutageLimit` that heals, as a Patroni failover behind PgBouncer does
    /// (every query waits, then runs on the new primary): the worker gives its panel up, takes it again with a new
    /// token, and the transactions it gave up on run late. Records the panel logs all along, before, during and after
    /// the outage, are each stored once, none skipped. (ProdStackTests lost most of a 40 s failover's records once
    /// in CI; failovers of 20 s never did.)
    @Test(.timeLimit(.minutes(3))) func recordsLoggedThroughAnOutageLongerThanTheLimitAreEachStoredOnce() async throws {
        let fixture = try await WorkerFixture.make(panels: 1)
        defer { Task { await fixture.stop() } }
        let panelID = fixture.panelIDs[0]
        let simulated = try #require(fixture.simulator.panels.first)
        let relay = try TCPRelay(to: fixture.stack.postgres.port)
        defer { relay.close() }
        try await fixture.withWorker("held", through: relay) { _ in
            try await fixture.waitUntilAllConnected()
            let tokenBefore = try await fixture.int("SELECT fencing_token::int FROM panels WHERE id = '\(panelID)'")
            let first = try await simulated.inspect { $0.eventLog.count }
            // A record every 100 ms, each with a zone change the module pushes (a pushing module is walked on pushes).
            let producer = Task {
                var step = 0
                while !Task.isCancelled {
                    step += 1
                    try? await simulated.perform(.logEvent(code: 1019, restore: false, partition: 1, source: step % 200))
                    try? await simulated.perform(step % 2 == 1 ? .violateZone(5) : .restoreZone(5))
                    try? await Task.sleep(for: .milliseconds(100))
                }
            }
            try await Task.sleep(for: .seconds(1))
            relay.hold()
            // Past the limit: three lease TTLs (6 s) and a write timeout.
            try await Task.sleep(for: .seconds(10))
            relay.release()
            try await Task.sleep(for: .seconds(2))
            producer.cancel()
            _ = await producer.result
            let produced = try await simulated.inspect { $0.eventLog.count }
            #expect(produced - first > 80, "the producer logged \(produced - first) records")
            let stored = """
                SELECT count(*) || '|' || count(DISTINCT log_index) || '|' || coalesce(min(log_index), -1) || '|' || coalesce(max(log_index), -1)
                FROM panel_events WHERE panel_id = '\(panelID)' AND source = 'event_log' AND log_index >= \(first)
                """
            var counts = ""
            try await eventually("the newest record stored", within: .seconds(60)) {
                counts = try await fixture.strings(stored).first ?? ""
                return counts.hasSuffix("|\(produced - 1)")
            }
            let expected = produced - first
            #expect(counts == "\(expected)|\(expected)|\(first)|\(produced - 1)", "stored (count, distinct, min, max) of \(expected) records")
            #expect(try await fixture.int("SELECT fencing_token::int FROM panels WHERE id = '\(panelID)'") > tokenBefore,
                    "the worker gave the panel up and took it again")
            #expect(try await fixture.int("SELECT count(*)::int FROM alarms WHERE kind = 'technical'") == 0, "no gap")
        }
    }

    /// Point 5: the panel carries a command out and never answers, and the worker loses its database before it
    /// could record anything: the row is left `sent`. Past its expiry another worker fails it as "outcome unknown"
    /// with its `CommandCompleted`, so no command stays `sent` for ever.
    @Test(.timeLimit(.minutes(2))) func aCommandSentAndNeverAnsweredEndsAsOutcomeUnknown() async throws {
        let fixture = try await WorkerFixture.make(panels: 1)
        defer { Task { await fixture.stop() } }
        let panelID = fixture.panelIDs[0]
        let simulated = try #require(fixture.simulator.panels.first)
        let relay = try TCPRelay(to: fixture.stack.postgres.port)
        defer { relay.close() }
        var command = UUID()
        try await fixture.withWorker("cut-off", through: relay) { _ in
            try await fixture.waitUntilAllConnected()
            try await simulated.perform(.silentAfterControl)
            command = try await request(fixture, panel: panelID, kind: .arm, targets: [2], armMode: 0, expiresIn: 4)
            try await eventually("the command sent") { try await status(fixture, command) == "sent/-" }
            relay.cut()
            try await eventually("the panel armed partition 2 without saying so") {
                try await simulated.inspect { $0.bitmaps[.partitionsArmed]!.contains(2) }
            }
        }
        #expect(try await status(fixture, command) == "sent/-")
        try await simulated.perform(.setAnswering(true))
        try await fixture.withWorker("healthy") { _ in
            try await eventually("the stranded command failed") { try await status(fixture, command) == "failed/-" }
        }
        #expect(try await fixture.strings("SELECT result_text FROM commands WHERE id = '\(command)'").first?.hasPrefix("outcome unknown") == true)
        #expect(try await fixture.int("""
            SELECT count(*)::int FROM outbox WHERE event_name = 'CommandCompleted' AND lower(payload->>'command_id') = '\(command.uuidString.lowercased())'
              AND payload->>'status' = 'failed'
            """) == 1)
    }

    /// Point 6: while the module does not answer, the panel logs more records than its ring holds, so the records
    /// after the stored cursor are overwritten before anyone read them. That loss is a high-priority technical
    /// alarm (it was a panel event nobody is alerted to); the records still in the ring are all stored.
    @Test(.timeLimit(.minutes(2))) func aRingThatOverwroteUnreadRecordsRaisesATechnicalAlarm() async throws {
        let fixture = try await WorkerFixture.make(panels: 1)
        defer { Task { await fixture.stop() } }
        let simulated = try #require(fixture.simulator.panels.first)
        let capacity = try await simulated.inspect { $0.configuration.eventLogCapacity }
        try await fixture.withWorker { _ in
            try await fixture.waitUntilAllConnected()
            try await simulated.perform(.logEvent(code: 1019, restore: false, partition: 1, source: 1))
            try await eventually("the first record stored") {
                try await fixture.int("SELECT count(*)::int FROM panel_events WHERE source = 'event_log'") == 1
            }
            try await simulated.perform(.setAnswering(false))
            for source in 0..<(capacity + 50) {
                try await simulated.perform(.logEvent(code: 1019, restore: false, partition: 1, source: source % 200))
            }
            try await simulated.perform(.setAnswering(true))
            try await eventually("the gap raised as an alarm", within: .seconds(60)) {
                try await fixture.int("SELECT count(*)::int FROM alarms WHERE kind = 'technical' AND priority = 'burglary'") == 1
            }
            try await eventually("every record in the ring stored", within: .seconds(60)) {
                try await fixture.int("SELECT count(*)::int FROM panel_events WHERE source = 'event_log'") >= capacity + 1
            }
        }
        #expect(try await fixture.int("SELECT count(*)::int FROM alarms") == 1)
        #expect(try await fixture.int("SELECT count(*)::int FROM outbox WHERE event_name = 'AlarmRaised'") == 1)
    }
}

extension WorkerEndToEndTests {
    /// Point 7: a flood of `/readyz` probes is answered through the worker's own connections, one evaluation a
    /// second for all of them: no PostgreSQL session, no AMQP connection (and no OS thread) per probe. Each probe
    /// opened both before, and a few hundred exhausted PgBouncer.
    @Test(.timeLimit(.minutes(2))) func aFloodOfReadinessProbesOpensNoConnection() async throws {
        let fixture = try await WorkerFixture.make(panels: 1)
        defer { Task { await fixture.stop() } }
        func sessions() async throws -> Int {
            try await fixture.int("SELECT sessions::int FROM pg_stat_database WHERE datname = current_database()")
        }
        func brokerConnections() throws -> Int {
            try fixture.stack.rabbitmq.ctl(["list_connections", "--no-table-headers", "-q", "name"]).split(separator: "\n").count
        }
        try await fixture.withWorker { worker in
            try await fixture.waitUntilAllConnected()
            // The worker's endpoints as `stam worker` serves them.
            let server = ObservabilityServer(configuration: .init(host: "127.0.0.1", port: 0), registry: worker.metrics.registry,
                                             readinessChecks: worker.readinessChecks(logger: fixture.logger), logger: fixture.logger)
            let serving = Task { try await server.run() }
            defer { serving.cancel() }
            let port = try await server.boundPort.value()
            #expect(try await HTTPGet.get(port: port, path: "/readyz").status == 200)
            try await Task.sleep(for: .seconds(2))
            let (sessionsBefore, connectionsBefore) = (try await sessions(), try brokerConnections())
            let answers = await withTaskGroup(of: Int.self) { group in
                for _ in 0..<300 { group.addTask { (try? await HTTPGet.get(port: port, path: "/readyz", timeout: 10))?.status ?? 0 } }
                return await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(answers.count == 300 && answers.allSatisfy { $0 == 200 })
            // Session counts reach the statistics when a session ends or within a second or so.
            try await Task.sleep(for: .seconds(3))
            #expect(try await sessions() - sessionsBefore < 5)
            #expect(try brokerConnections() == connectionsBefore)
        }
    }
}

extension WorkerEndToEndTests {
    /// Point 7: the worker's port does not listen on the panel network. A real `stam worker` told (as the deployment
    /// tells it, `STAM_METRICS_NOT_ON`) that this machine's first non-loopback address is the panel network answers on
    /// loopback only; told another network, it answers on that address too.
    @Test(.timeLimit(.minutes(2))) func theWorkersPortIsNotReachableFromThePanelNetwork() async throws {
        let fixture = try await WorkerFixture.make(panels: 1)
        defer { Task { await fixture.stop() } }
        let address = try #require(Self.nonLoopbackAddress(), "this machine has no non-loopback IPv4 address")
        func answers(_ host: String, _ port: Int) async -> Bool {
            (try? await HTTPGet.get(port: port, host: host, path: "/healthz", timeout: 3))?.status == 200
        }
        for (excluded, reachable) in [("\(address)/32", false), ("203.0.113.0/24", true)] {
            let port = try FreePort.find()
            let worker = try fixture.child("listen-\(reachable)", metricsPort: port, environment: ["STAM_METRICS_NOT_ON": excluded])
            defer { worker.stop(signal: SIGKILL) }
            try await eventually("the worker's port on loopback") { await answers("127.0.0.1", port) }
            #expect(await answers(address, port) == reachable, "not on \(excluded): \(address):\(port)")
        }
    }

    static func nonLoopbackAddress() -> String? {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return nil }
        defer { freeifaddrs(list) }
        for entry in sequence(first: first, next: { $0.pointee.ifa_next }) {
            guard let address = entry.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET) else { continue }
            var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            guard getnameinfo(address, socklen_t(MemoryLayout<sockaddr_in>.size), &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST) == 0 else { continue }
            let text = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if !text.hasPrefix("127.") { return text }
        }
        return nil
    }
}
