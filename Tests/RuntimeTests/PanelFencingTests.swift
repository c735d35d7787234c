import Database
import Foundation
import Logging
import MigrationSupport
import PostgresNIO
import Testing
import TestSupport

/// The database half of panel leases on a real PostgreSQL 15: a claim with an older fencing token and a
/// write under a superseded lease are refused, and a newer owner's claim waits for a write in progress.
@Suite(.postgres, .integration, .tags(.integration)) struct PanelFencingTests {
    let logger = Logger(label: "test.fencing")

    func connect() async throws -> (PostgresConnection, UUID) {
        let postgres = try #require(TestPostgres.current)
        let database = try await postgres.migratedDatabase(logger: logger)
        let connection = try await PostgresConnection.connect(configuration: database.connectionConfiguration, id: 1, logger: logger)
        let site = UUID()
        let panel = UUID()
        try await connection.query("INSERT INTO sites (id, code, name) VALUES (\(site), 'S1', 'Site')", logger: logger)
        try await connection.query("""
            INSERT INTO panels (id, site_id, name, host) VALUES (\(panel), \(site), 'Panel', '10.0.0.1')
            """, logger: logger)
        return (connection, panel)
    }

    @Test func olderTokensAreRefused() async throws {
        let (connection, panel) = try await connect()
        defer { Task { try? await connection.close() } }
        #expect(try await PanelFencing.claim(panelID: panel, fencingToken: 1, workerID: "a", on: connection, logger: logger))
        #expect(try await PanelFencing.claim(panelID: panel, fencingToken: 1, workerID: "b", on: connection, logger: logger) == false)
        // The same grant claiming again (its session starts over after a failed transaction) keeps the panel:
        // refusing it made the worker give up its own lease on every database hiccup.
        #expect(try await PanelFencing.claim(panelID: panel, fencingToken: 1, workerID: "a", on: connection, logger: logger))
        #expect(try await PanelFencing.claim(panelID: panel, fencingToken: 3, workerID: "b", on: connection, logger: logger))
        #expect(try await PanelFencing.claim(panelID: panel, fencingToken: 2, workerID: "a", on: connection, logger: logger) == false)
        #expect(try await PanelFencing.hold(panelID: panel, fencingToken: 3, on: connection, logger: logger))
        #expect(try await PanelFencing.hold(panelID: panel, fencingToken: 1, on: connection, logger: logger) == false)
        #expect(try await PanelFencing.claim(panelID: UUID(), fencingToken: 9, workerID: "a", on: connection, logger: logger) == false)
        let owner = try await connection.query("SELECT owner_worker FROM panels WHERE id = \(panel)", logger: logger)
        #expect(try await owner.decode(String.self).reduce(into: []) { $0.append($1) } == ["b"])
    }

    @Test func aNewerClaimWaitsForTheWriteInProgressThenWins() async throws {
        let (old, panel) = try await connect()
        defer { Task { try? await old.close() } }
        #expect(try await PanelFencing.claim(panelID: panel, fencingToken: 1, workerID: "old", on: old, logger: logger))

        try await old.query("BEGIN", logger: logger)
        #expect(try await PanelFencing.hold(panelID: panel, fencingToken: 1, on: old, logger: logger))
        let newer = try await newConnection(like: old)
        defer { Task { try? await newer.close() } }
        async let claimed = PanelFencing.claim(panelID: panel, fencingToken: 2, workerID: "new", on: newer, logger: logger)

        // The claim blocks on the old owner's row lock until that transaction ends. (Watched from a third
        // connection: inside a transaction pg_stat_activity keeps showing its first snapshot.)
        let observer = try await newConnection(like: old)
        defer { Task { try? await observer.close() } }
        try await eventually(observer) { connection in
            let rows = try await connection.query("""
                SELECT count(*)::int FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE panels%'
                """, logger: logger)
            return try await rows.decode(Int.self).reduce(0, +) == 1
        }
        try await old.query("UPDATE panels SET event_log_cursor = 7 WHERE id = \(panel) AND fencing_token = 1", logger: logger)
        try await old.query("COMMIT", logger: logger)
        #expect(try await claimed)
        // From now on the old lease's writes are refused.
        #expect(try await PanelFencing.hold(panelID: panel, fencingToken: 1, on: old, logger: logger) == false)
    }

    /// The worker sets its idle-in-transaction limit with the fencing statement; it lasts for that
    /// transaction only (so it also holds through PgBouncer's transaction pooling).
    @Test func holdSetsTheTransactionsIdleTimeoutForThatTransactionOnly() async throws {
        let (connection, panel) = try await connect()
        defer { Task { try? await connection.close() } }
        #expect(try await PanelFencing.claim(panelID: panel, fencingToken: 1, workerID: "a", on: connection, logger: logger))
        func timeout() async throws -> String {
            try await connection.query("SHOW idle_in_transaction_session_timeout", logger: logger).decode(String.self).reduce(into: "") { $0 = $1 }
        }
        try await connection.query("BEGIN", logger: logger)
        #expect(try await PanelFencing.hold(panelID: panel, fencingToken: 1, idleTimeoutMilliseconds: 1500, on: connection, logger: logger))
        #expect(try await timeout() == "1500ms")
        try await connection.query("COMMIT", logger: logger)
        #expect(try await timeout() == "0")
        // A refused hold changes nothing either.
        try await connection.query("BEGIN", logger: logger)
        #expect(try await PanelFencing.hold(panelID: panel, fencingToken: 0, idleTimeoutMilliseconds: 1500, on: connection, logger: logger) == false)
        #expect(try await timeout() == "0")
        try await connection.query("ROLLBACK", logger: logger)
    }

    func newConnection(like connection: PostgresConnection) async throws -> PostgresConnection {
        let rows = try await connection.query("SELECT current_database()", logger: logger)
        let name = try await rows.decode(String.self).reduce(into: "") { $0 = $1 }
        let postgres = try #require(TestPostgres.current)
        let database = try DatabaseConfiguration(url: "postgresql://app@127.0.0.1:\(postgres.server.port)/\(name)",
                                                 passwordFile: "\(postgres.runDirectory)/app_password")
        return try await PostgresConnection.connect(configuration: database.connectionConfiguration, id: 2, logger: logger)
    }

    func eventually(_ connection: PostgresConnection, _ condition: (PostgresConnection) async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if try await condition(connection) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("the newer claim never waited for the lock")
    }
}
