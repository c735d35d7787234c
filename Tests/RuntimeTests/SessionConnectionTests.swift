import Database
import Foundation
import Logging
import PostgresNIO
import Synchronization
import Testing
import TestSupport

/// A loop's own connection ends with its task even when its query is never answered. postgres-nio (1.33) writes a
/// query to its channel without a write promise, so one sent on a connection that is already closed waits for ever;
/// the outbox relay's LISTEN and heartbeat loops met that in a database crash and kept a shutdown waiting (OutboxTests'
/// crash test hung once so). Both tests send exactly such a query, on a real PostgreSQL 15.
@Suite(.postgres, .integration, .tags(.integration)) struct SessionConnectionTests {
    let logger = Logger(label: "test.session-connection")

    /// The body keeps querying and swallows every failure, as a retrying loop would; after the cancellation closed
    /// the connection, its next query is never answered. The session still ends, with the cancellation.
    @Test func cancellingASessionWhoseQueryIsNeverAnsweredEndsIt() async throws {
        let database = try await #require(TestPostgres.current).migratedDatabase(logger: logger)
        let (configuration, logger) = (database.connectionConfiguration, logger)
        let queries = Mutex(0)
        let outcome = Mutex<Result<Void, any Error>?>(nil)
        let session = Task {
            do {
                try await SessionConnection.run(configuration, id: 1, logger: logger) { connection in
                    while true {
                        queries.withLock { $0 += 1 }
                        _ = try? await connection.query("SELECT pg_sleep(0.05)", logger: logger).collect()
                    }
                }
                outcome.withLock { $0 = .success(()) }
            } catch {
                outcome.withLock { $0 = .failure(error) }
            }
        }
        try await waitFor("the session's queries") { queries.withLock { $0 } > 3 }
        session.cancel()
        try await waitFor("the cancelled session to end") { outcome.withLock { $0 } != nil }
        #expect(throws: CancellationError.self) { try outcome.withLock { $0 }?.get() }
    }

    /// A round whose connection was closed under it (the server went away after the loop's check) ends at its
    /// deadline with `DatabaseDeadline`, so the loop opens a new session instead of stopping for ever.
    @Test func aRoundWhoseQueryIsNeverAnsweredEndsAtItsDeadline() async throws {
        let database = try await #require(TestPostgres.current).migratedDatabase(logger: logger)
        let logger = logger
        let error = await #expect(throws: DatabaseDeadline.self) {
            try await SessionConnection.run(database.connectionConfiguration, id: 1, logger: logger) { connection in
                try await SessionConnection.round("a round", timeout: .seconds(1), on: connection) {
                    try await connection.close()
                    _ = try await connection.query("SELECT 1", logger: logger).collect()
                }
            }
        }
        #expect(error?.what == "a round")
    }

    /// Polls `condition` for at most 20 seconds: a session that never ends fails the test instead of hanging the run.
    private func waitFor(_ what: String, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("waited 20 s for \(what)")
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
