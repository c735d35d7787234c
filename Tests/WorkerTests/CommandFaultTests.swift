import Foundation
import DevStack
import PostgresNIO
import Redis
import Satel
import TestSupport
import Testing
import Worker

/// docs/RELIABILITY.md, section 3 (operator command path): what happens to a requested command when its message is
/// lost, its worker dies before sending it, the worker loses PostgreSQL or Redis, or shuts down while the panel has
/// not answered. The `commands` row is the truth throughout; these tests break everything around it.
extension WorkerEndToEndTests {
    /// Relay or broker down, the queue lost, or the message delivered to a worker that does not own the panel: the
    /// owner's sweep runs the command anyway. Two workers share two panels; one command is never published at all,
    /// the others are published once each and land on whichever worker the broker picks.
    @Test(.timeLimit(.minutes(2))) func aCommandWhoseMessageNeverArrivesIsRunByThePanelsOwner() async throws {
        let fixture = try await WorkerFixture.make(panels: 2)
        defer { Task { await fixture.stop() } }
        try await fixture.withWorker("w1") { first in
            try await fixture.withWorker("w2") { second in
                try await fixture.waitUntilAllConnected()
                try await eventually("each worker owns a panel") { first.ownedPanels.count == 1 && second.ownedPanels.count == 1 }
                let unpublished = try await request(fixture, panel: fixture.panelIDs[0], kind: .outputsSwitch, targets: [1], deliveries: 0)
                let published = try await fixture.panelIDs.asyncMap { panel in
                    try await request(fixture, panel: panel, kind: .outputsSwitch, targets: [2])
                }
                for command in [unpublished] + published {
                    try await eventually("command \(command) done") { try await status(fixture, command) == "succeeded/255" }
                }
            }
        }
        #expect(try await fixture.simulator.panels[0].inspect { $0.bitmaps[.outputsState]!.numbers == [1, 2] })
        #expect(try await fixture.simulator.panels[1].inspect { $0.bitmaps[.outputsState]!.numbers == [2] })
    }

    /// kill -9 of the worker before its `requested -> sent` commit: the claim is held in flight by a row lock this
    /// test takes, the worker is killed while its UPDATE waits, and only then is the lock released. The dead worker's
    /// transaction never commits, the row is still `requested`, and the next owner sends the command once.
    @Test(.timeLimit(.minutes(2))) func aWorkerKilledBeforeItsSendCommitLeavesTheCommandToTheNextOwner() async throws {
        let fixture = try await WorkerFixture.make(panels: 1)
        defer { Task { await fixture.stop() } }
        let panelID = fixture.panelIDs[0]
        let simulated = try #require(fixture.simulator.panels.first)
        let command = try await request(fixture, panel: panelID, kind: .outputsSwitch, targets: [3], deliveries: 0)
        let blocker = try await PostgresConnection.connect(configuration: fixture.database.connectionConfiguration, id: 7, logger: fixture.logger)
        try await blocker.query("BEGIN", logger: fixture.logger)
        try await blocker.query(PostgresQuery(unsafeSQL: "SELECT 1 FROM commands WHERE id = '\(command)' FOR UPDATE"), logger: fixture.logger)

        let victim = try fixture.child("victim", metricsPort: try FreePort.find())
        defer { victim.stop(signal: SIGKILL) }
        try await eventually("the victim's claim waits on the row") {
            try await fixture.int("""
                SELECT count(*)::int FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE commands SET status%'
                """) == 1
        }
        victim.stop(signal: SIGKILL)
        try await blocker.query("ROLLBACK", logger: fixture.logger)
        try await blocker.close()
        // The dead worker's session ran its UPDATE once the lock went, then found its client gone and rolled back.
        try await eventually("the victim's session ended") {
            try await fixture.int("SELECT count(*)::int FROM pg_stat_activity WHERE query LIKE 'UPDATE commands SET status%'") == 0
        }
        #expect(try await status(fixture, command) == "requested/-")
        #expect(try await simulated.inspect { !$0.bitmaps[.outputsState]!.contains(3) })

        try await fixture.withWorker("next-owner") { _ in
            try await eventually("the next owner ran the command") { try await status(fixture, command) == "succeeded/255" }
        }
        #expect(try await simulated.inspect { $0.bitmaps[.outputsState]!.numbers == [3] })
        #expect(try await fixture.int("SELECT count(*)::int FROM outbox WHERE event_name = 'CommandCompleted'") == 1)
    }

    /// The owner cut off from PostgreSQL while commands wait (a partition: every call hangs). It relinquishes the
    /// panel after `databaseOutageLimit`; the worker that reaches the database takes the panel and runs the command
    /// that has not expired, and expires the one whose lifetime ended during the outage, which is never sent.
    @Test(.timeLimit(.minutes(2))) func commandsWaitingWhileTheOwnerIsCutOffFromPostgreSQLRunOnTheNextOwner() async throws {
        let fixture = try await WorkerFixture.make(panels: 1)
        defer { Task { await fixture.stop() } }
        let panelID = fixture.panelIDs[0]
        let simulated = try #require(fixture.simulator.panels.first)
        let relay = try TCPRelay(to: fixture.stack.postgres.port)
        defer { relay.close() }
        try await fixture.withWorker("cut-off", through: relay) { cutOff in
            try await fixture.waitUntilAllConnected()
            relay.cut()
            let lasting = try await request(fixture, panel: panelID, kind: .arm, targets: [2], armMode: 0, expiresIn: 60)
            let shortLived = try await request(fixture, panel: panelID, kind: .arm, targets: [3], armMode: 0, expiresIn: 2)
            try await Task.sleep(for: .seconds(3))
            try await fixture.withWorker("healthy") { healthy in
                try await eventually("the short-lived command expired") { try await status(fixture, shortLived) == "expired/-" }
                try await eventually("the healthy worker owns the panel", within: .seconds(60)) { healthy.ownedPanels == [panelID] }
                try await eventually("the lasting command ran") { try await status(fixture, lasting) == "succeeded/0" }
                #expect(cutOff.ownedPanels.isEmpty)
            }
        }
        #expect(try await simulated.inspect { $0.bitmaps[.partitionsArmed]!.numbers == [2] })
    }

    /// Redis unreachable (a partition: the lease can be neither renewed nor taken): the worker's session ends with
    /// its lease, so no worker holds the panel, and a command requested meanwhile expires unsent, in database
    /// time, by the worker that still reaches PostgreSQL. Once Redis answers again the panel is taken back and
    /// commands run.
    @Test(.timeLimit(.minutes(2))) func withRedisUnreachableNoWorkerHoldsThePanelAndItsCommandsExpireUnsent() async throws {
        let fixture = try await WorkerFixture.make(panels: 1)
        defer { Task { await fixture.stop() } }
        let panelID = fixture.panelIDs[0]
        let simulated = try #require(fixture.simulator.panels.first)
        let relay = try TCPRelay(to: fixture.stack.redis.port)
        defer { relay.close() }
        var redis = fixture.stack.redisConfiguration
        redis.port = relay.port
        let worker = StamWorker(configuration: fixture.configuration("redis-cut"), database: fixture.database, secrets: fixture.secrets,
                                redis: redis, amqp: fixture.stack.amqpConfiguration, logger: fixture.logger)
        try await fixture.withService(worker) {
            try await fixture.waitUntilAllConnected()
            relay.cut()
            try await eventually("the panel given up with its lease") {
                try await fixture.int("SELECT count(*)::int FROM panels WHERE connection_state = 'connected'") == 0
                    && worker.ownedPanels.isEmpty
            }
            let stranded = try await request(fixture, panel: panelID, kind: .arm, targets: [2], armMode: 0, expiresIn: 2)
            try await eventually("the command expired unsent") { try await status(fixture, stranded) == "expired/-" }
            #expect(try await simulated.inspect { !$0.bitmaps[.partitionsArmed]!.contains(2) })

            relay.restore()
            try await eventually("the panel taken back", within: .seconds(60)) { worker.ownedPanels == [panelID] }
            try await fixture.waitUntilAllConnected()
            let later = try await request(fixture, panel: panelID, kind: .arm, targets: [4], armMode: 0)
            try await eventually("the later command ran") { try await status(fixture, later) == "succeeded/0" }
        }
        #expect(try await simulated.inspect { $0.bitmaps[.partitionsArmed]!.numbers == [4] })
    }

    /// Graceful shutdown while the panel has been sent a control and not answered: the panel link closes first, the
    /// command is recorded `failed` ("no answer from the panel": it may have done it) within the shutdown bound, and
    /// no command is left `sent`.
    @Test(.timeLimit(.minutes(2))) func aCommandInFlightAtShutdownIsRecordedAsFailedWithoutAnAnswer() async throws {
        let fixture = try await WorkerFixture.make(panels: 1)
        defer { Task { await fixture.stop() } }
        let panelID = fixture.panelIDs[0]
        let simulated = try #require(fixture.simulator.panels.first)
        var command = UUID()
        try await fixture.withWorker { _ in
            try await fixture.waitUntilAllConnected()
            try await simulated.perform(.silentAfterControl)
            command = try await request(fixture, panel: panelID, kind: .arm, targets: [2], armMode: 0)
            try await eventually("the command sent") { try await status(fixture, command) == "sent/-" }
        }
        #expect(try await status(fixture, command) == "failed/-")
        #expect(try await fixture.strings("SELECT result_text FROM commands WHERE id = '\(command)'").first?
            .hasPrefix("no answer from the panel") == true)
        #expect(try await fixture.int("SELECT count(*)::int FROM outbox WHERE event_name = 'CommandCompleted'") == 1)
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
