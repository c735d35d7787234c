import Logging
import PostgresNIO

/// A long-lived connection of a loop's own (LISTEN, a heartbeat, the outbox pruner) that ends with its task:
/// cancelling the task closes the connection, which fails the query in flight. postgres-nio does not end a query on
/// cancellation, so a loop whose server went silent (a partition, a crashed host) would otherwise keep its service,
/// and a graceful shutdown, waiting for ever.
public enum SessionConnection {
    /// - Parameter connectTimeout: the longest the connection may take to open (`DatabaseDeadline.connect`).
    public static func run<Result: Sendable>(_ configuration: PostgresConnection.Configuration, id: Int,
                                             connectTimeout: Duration = .seconds(10), logger: Logger,
                                             _ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        let connection = try await DatabaseDeadline.connect(configuration, id: id, timeout: connectTimeout, logger: logger)
        defer { DatabaseDeadline.closeNow(connection) }
        return try await withTaskCancellationHandler {
            try await body(connection)
        } onCancel: {
            DatabaseDeadline.closeNow(connection)
        }
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
