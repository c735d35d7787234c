import Logging
import PostgresNIO

/// A long-lived connection of a loop's own (LISTEN, a heartbeat, the outbox pruner) that ends with its task:
/// cancelling the task closes the connection and the caller goes on at once, leaving the body behind.
///
/// Why it does not wait for the body: postgres-nio (1.33) writes a query to its channel without a write promise, so
/// a query sent on a connection that is already closed (the server went away between a loop's `checkOpen` and its
/// next query, or the cancellation closed it first) is never failed and never answered. A loop waiting for such a
/// body kept its service, and a graceful shutdown, waiting for ever (OutboxTests' database-crash test hung once so).
/// A round inside the loop is bounded the same way (`round`), so a loop does not stop for ever on a lost query
/// either.
public enum SessionConnection {
    /// - Parameter connectTimeout: the longest the connection may take to open (`DatabaseDeadline.connect`).
    public static func run<Result: Sendable>(_ configuration: PostgresConnection.Configuration, id: Int,
                                             connectTimeout: Duration = .seconds(10), logger: Logger,
                                             _ body: @escaping @Sendable (PostgresConnection) async throws -> Result) async throws -> Result {
        let connection = try await DatabaseDeadline.connect(configuration, id: id, timeout: connectTimeout, logger: logger)
        defer { DatabaseDeadline.closeNow(connection) }
        return try await DatabaseDeadline.run("a session of its own", timeout: nil, closing: connection) {
            try await body(connection)
        }
    }

    /// One round of a loop on the session's connection (a heartbeat, a pruning pass), bounded: at `timeout` the
    /// connection is closed, the round left behind and `DatabaseDeadline` thrown, so the loop opens a new session.
    public static func round<Result: Sendable>(_ what: String, timeout: Duration, on connection: PostgresConnection,
                                               _ body: @escaping @Sendable () async throws -> Result) async throws -> Result {
        try checkOpen(connection)
        return try await DatabaseDeadline.run(what, timeout: timeout, closing: connection, body)
    }

    /// Throws when the server has closed the connection (a restart, a failover): postgres-nio leaves a query sent on
    /// such a connection waiting for ever, so a loop checks before each round and opens a new one.
    public static func checkOpen(_ connection: PostgresConnection) throws {
        if connection.isClosed { throw Closed() }
    }

    public struct Closed: Error, CustomStringConvertible {
        public var description: String { "the server closed the connection" }
    }
}
