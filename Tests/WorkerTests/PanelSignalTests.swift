import Alarms
import Database
import Foundation
import Generated
import Leases
import Outbox
import Persistence
import PostgresNIO
import Redis
import TestSupport
import Testing
@testable import Worker

/// Issue 20 point 5 with a real worker and a simulated panel: the worker's heartbeat keeps `last_seen_at` fresh
/// while the module answers; the link goes silent (every byte dropped, as a cut cable or a dead module); the
/// supervision every backend runs raises one `no_signal` alarm within the panel's period plus a tolerance; the link
/// comes back, the worker reconnects, and the alarm is restored.
extension WorkerEndToEndTests {
    @Test(.timeLimit(.minutes(3))) func aPanelThatFallsSilentRaisesNoSignalAndIsRestoredWhenItAnswers() async throws {
        let fixture = try await WorkerFixture.make(panels: 1)
        defer { Task { await fixture.stop() } }
        let panel = fixture.panelIDs[0]
        let port = try await fixture.int("SELECT port FROM panels WHERE id = '\(panel)'")
        let link = try TCPRelay(to: port)
        defer { link.close() }
        try await fixture.execute("UPDATE panels SET port = \(link.port), signal_period_s = 10 WHERE id = '\(panel)'")
        var configuration = fixture.configuration("w1")
        configuration.signalHeartbeatInterval = .milliseconds(500)
        let worker = StamWorker(configuration: configuration, database: fixture.database, secrets: fixture.secrets,
                                redis: fixture.stack.redisConfiguration, amqp: fixture.stack.amqpConfiguration, logger: fixture.logger)
        let logger = fixture.logger
        try await TestPostgres.withClient(fixture.database, logger: logger) { client in
            let repositories = Repositories(context: DatabaseContext(client: client, secrets: fixture.secrets, logger: logger))
            let supervisor = SignalSupervisor(client: client, repositories: repositories, notifier: nil, interval: .milliseconds(500), logger: logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await supervisor.run() }
                defer { group.cancelAll() }
                try await fixture.withService(worker) {
                    try await eventually("the panel connected and signalling") {
                        try await fixture.strings("SELECT connection_state FROM panels WHERE id = '\(panel)'") == ["connected"]
                    }
                    // Longer than the period while the module answers: no alarm (the heartbeat keeps it fresh).
                    try await Task.sleep(for: .seconds(12))
                    #expect(try await fixture.int("SELECT count(*)::int FROM alarms WHERE kind = 'no_signal'") == 0)

                    let silentSince = ContinuousClock.now
                    link.cut()
                    try await eventually("the no_signal alarm", within: .seconds(40)) {
                        try await fixture.int("SELECT count(*)::int FROM alarms WHERE kind = 'no_signal'") == 1
                    }
                    let after = ContinuousClock.now - silentSince
                    print("no_signal raised \(after) after the link fell silent (period 10 s)")
                    // The period, plus up to one heartbeat, one supervision pass and the worker's request timeout.
                    #expect(after < .seconds(10 + 15))
                    #expect(after >= .seconds(8), "not before the period (less the last heartbeat's age)")

                    link.restore()
                    try await eventually("the alarm restored", within: .seconds(40)) {
                        try await fixture.int("SELECT count(*)::int FROM panels WHERE id = '\(panel)' AND no_signal_alarm_id IS NULL") == 1
                    }
                    #expect(try await fixture.strings("""
                        SELECT h.kind FROM alarm_history_entries h JOIN alarms a ON a.id = h.alarm_id
                        WHERE a.kind = 'no_signal' ORDER BY h.at
                        """) == ["raised", "restored"])
                    #expect(try await fixture.int("SELECT count(*)::int FROM alarms WHERE kind = 'no_signal'") == 1)
                }
            }
        }
    }

    /// The heartbeat (`PanelStore.touch`) neither waits for nor holds back the panels whose rows are free while
    /// another transaction holds one panel's row (a panel transaction, a claim): it touches the free ones at once and
    /// the held one when it is free. One statement for every panel waited at the held row and kept every row it had
    /// updated until then, so the panel transactions of all of them waited too (StackBench, 2,000 panels).
    @Test(.timeLimit(.minutes(2))) func theHeartbeatTouchesEveryFreePanelWhileAnotherTransactionHoldsOnesRow() async throws {
        let fixture = try await WorkerFixture.make(panels: 3)
        defer { Task { await fixture.stop() } }
        let logger = fixture.logger
        let client = PostgresClient(configuration: fixture.database.clientConfiguration, backgroundLogger: logger)
        let repositories = Repositories(context: DatabaseContext(client: client, secrets: fixture.secrets, logger: logger))
        let store = PanelStore(client: client, repositories: repositories, outbox: OutboxNotifier(client: client, logger: logger),
                               alarms: AlarmRaiser(repositories: repositories), logger: logger)
        try await fixture.execute("UPDATE panels SET fencing_token = 7")
        let panels = fixture.panelIDs.map { (id: $0, fencingToken: Int64(7)) }
        let held = fixture.panelIDs[0]
        let free = fixture.panelIDs[1...].map { "'\($0)'" }.joined(separator: ",")
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await fixture.withConnection { holder in
                try await holder.query("BEGIN", logger: logger)
                try await holder.query("SELECT 1 FROM panels WHERE id = \(held) FOR SHARE", logger: logger)
                let since = try await fixture.strings("SELECT now()::text").first ?? ""
                let touch = Task { try await store.touch(panels) }
                try await eventually("the free panels touched while the held row is held") {
                    try await fixture.int("SELECT count(*)::int FROM panels WHERE id IN (\(free)) AND last_seen_at > '\(since)'") == 2
                }
                #expect(try await fixture.int("SELECT count(*)::int FROM panels WHERE id = '\(held)' AND last_seen_at > '\(since)'") == 0)
                try await holder.query("COMMIT", logger: logger)
                try await touch.value
                #expect(try await fixture.int("SELECT count(*)::int FROM panels WHERE id = '\(held)' AND last_seen_at > '\(since)'") == 1)
            }
        }
    }
}
