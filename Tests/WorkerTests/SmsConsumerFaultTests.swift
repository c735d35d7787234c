import Foundation
import DevStack
import PostgresNIO
import TestSupport
import Testing

/// docs/RELIABILITY.md, section 2 (SMS path), the consumer's rows: `IdempotentConsumer` + `SmsIngest` killed in the
/// middle of its transaction, and cut off from PostgreSQL. The message is acknowledged only after its commit, and
/// its id is recorded in the same transaction, so it is stored once whatever happens around it.
extension WorkerEndToEndTests {
    func prepareSmsPanel(_ fixture: WorkerFixture, phone: String) async throws {
        try await fixture.execute("UPDATE panels SET sim_phone = '\(phone)' WHERE id = '\(fixture.panelIDs[0])'")
        try await fixture.execute("INSERT INTO sms_alarm_patterns (pattern, kind, priority) VALUES ('alarm', 'burglary', 'burglary')")
    }

    func smsStored(_ fixture: WorkerFixture, _ id: UUID) async throws -> Bool {
        try await fixture.int("SELECT count(*)::int FROM sms_messages WHERE id = '\(id)' AND alarm_id IS NOT NULL") == 1
    }

    /// kill -9 of `stam sms-consumer` mid-transaction: its INSERT of the message waits on a table lock this test
    /// holds (its `processed_messages` row already written, uncommitted) when it is killed. Nothing was committed or
    /// acknowledged: the broker gives the message to the next consumer, which stores it and raises its alarm once.
    @Test(.timeLimit(.minutes(2))) func anSmsConsumerKilledMidTransactionLeavesTheMessageToTheNextOnce() async throws {
        let fixture = try await WorkerFixture.make(panels: 1)
        defer { Task { await fixture.stop() } }
        try await prepareSmsPanel(fixture, phone: "+48 600 100 401")
        let inbox = SmsInbox(fixture)
        let blocker = try await PostgresConnection.connect(configuration: fixture.database.connectionConfiguration, id: 7, logger: fixture.logger)
        try await blocker.query("BEGIN", logger: fixture.logger)
        try await blocker.query("LOCK TABLE sms_messages IN EXCLUSIVE MODE", logger: fixture.logger)

        let victim = try fixture.stam(["sms-consumer", "--metrics-port", "0", "--metrics-host", "127.0.0.1"], name: "sms-victim")
        defer { victim.stop(signal: SIGKILL) }
        let sms: UUID
        do {
            sms = try await inbox.send(from: "+48600100401", "ALARM strefa 3")
            // The generated repository's INSERT (quoted table name).
            try await eventually("the victim's INSERT waits on the lock") {
                try await fixture.int("""
                    SELECT count(*)::int FROM pg_stat_activity
                    WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO "sms_messages"%' AND pid <> pg_backend_pid()
                    """) == 1
            }
        } catch {
            // Closed before it is released: postgres-nio traps on a connection deinitialised open.
            try? await blocker.close()
            throw error
        }
        victim.stop(signal: SIGKILL)
        try await blocker.query("ROLLBACK", logger: fixture.logger)
        try await blocker.close()
        try await eventually("the victim's session ended") {
            try await fixture.int("""
                SELECT count(*)::int FROM pg_stat_activity WHERE query LIKE '%INSERT INTO "sms_messages"%' AND pid <> pg_backend_pid()
                """) == 0
        }
        #expect(try await fixture.int("SELECT count(*)::int FROM sms_messages") == 0)
        #expect(try await fixture.int("SELECT count(*)::int FROM processed_messages WHERE consumer = 'sms-consumer'") == 0)

        try await inbox.consuming {
            try await eventually("the next consumer stored it") { try await smsStored(fixture, sms) }
        }
        await inbox.close()
        #expect(try await fixture.int("SELECT count(*)::int FROM sms_messages WHERE sender LIKE '%600100401'") == 1)
        #expect(try await fixture.int("SELECT count(*)::int FROM alarms") == 1)
        #expect(try await fixture.int("SELECT count(*)::int FROM outbox WHERE event_name = 'AlarmRaised'") == 1)
    }

    /// The consumer cut off from PostgreSQL (a partition: its calls hang, nothing fails) while a message arrives: it
    /// gives the transaction up after its timeout and keeps retrying on new connections, holding the message (not
    /// acknowledged, not requeued); once the database is reachable again the message is stored once. Without the
    /// timeout the consumer waited on the dead connection for ever.
    @Test(.timeLimit(.minutes(2))) func anSmsConsumerCutOffFromPostgreSQLStoresTheMessageOnceItIsBack() async throws {
        let fixture = try await WorkerFixture.make(panels: 1)
        defer { Task { await fixture.stop() } }
        try await prepareSmsPanel(fixture, phone: "+48 600 100 402")
        let relay = try TCPRelay(to: fixture.stack.postgres.port)
        defer { relay.close() }
        let inbox = SmsInbox(fixture, database: try fixture.database(through: relay), transactionTimeout: .seconds(2))
        try await inbox.consuming {
            let before = try await inbox.send(from: "+48600100402", "ALARM strefa 1")
            try await eventually("the first SMS stored") { try await smsStored(fixture, before) }
            try await fixture.execute("UPDATE alarms SET state = 'closed', closed_at = now()")
            relay.cut()
            let during = try await inbox.send(from: "+48600100402", "ALARM strefa 2")
            try await Task.sleep(for: .seconds(5))
            #expect(try await fixture.int("SELECT count(*)::int FROM sms_messages WHERE id = '\(during)'") == 0)
            relay.restore()
            try await eventually("the SMS sent during the cut stored") { try await smsStored(fixture, during) }
        }
        await inbox.close()
        // By sender: the shared `sms.inbox` may still hold another test's message, which this consumer stores too.
        #expect(try await fixture.int("SELECT count(*)::int FROM sms_messages WHERE sender LIKE '%600100402'") == 2)
        #expect(try await fixture.int("SELECT count(*)::int FROM alarms") == 2)
    }
}
