import Logging
import NIOConcurrencyHelpers
import PostgresNIO

/// A bound on how long a caller waits for the database before it starts over: the worker's panel sessions and
/// command steps, the outbox relay's batch and the idempotent consumers' transactions. A partition drops every
/// byte and nothing on the client's side ends the wait (no keepalive short enough, no error).
///
/// Why it does not simply cancel: in the failover test (ProdStackTests) panel sessions that asked the worker's `PostgresClient` for a
/// connection while PgBouncer refused every login (the primary was dead) never got one, not even after
/// PgBouncer served again: their panels stayed unwatched until the worker restarted. postgres-nio's pool has
/// no request timeout, and such a waiting request does not end on cancellation either, so the deadline does
/// not wait for it: the caller goes on, the stuck request is cancelled and left behind.
public struct DatabaseDeadline: Error, CustomStringConvertible {
    public var what: String
    public var timeout: Duration

    public var description: String { "\(what) waited for the database longer than \(timeout); starting over" }

    /// Runs `operation`, or throws `DatabaseDeadline` after `timeout` and leaves it behind, cancelled. With no
    /// timeout, only the caller's cancellation ends the wait (with a `connection` to close; `SessionConnection`).
    /// - Parameter connection: the caller's own connection, which `operation` uses: closed at the deadline, so the
    ///   abandoned operation fails at once instead of lingering, and when the caller's task is cancelled, which
    ///   ends the operation the same way (postgres-nio does not end a query on cancellation).
    /// - Parameter discard: given the result of an operation that finished after the deadline (nobody takes it).
    public static func run<Result: Sendable>(_ what: String, timeout: Duration?, closing connection: PostgresConnection? = nil,
                                             discard: (@Sendable (Result) -> Void)? = nil,
                                             _ operation: @escaping @Sendable () async throws -> Result) async throws -> Result {
        let pending = NIOLockedValueBox<CheckedContinuation<Result, any Error>?>(nil)
        let work = NIOLockedValueBox<Task<Void, Never>?>(nil)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                pending.withLockedValue { $0 = continuation }
                let task = Task {
                    let outcome: Swift.Result<Result, any Error>
                    do { outcome = .success(try await operation()) } catch { outcome = .failure(error) }
                    if let waiting = pending.withLockedValue({ waiting in defer { waiting = nil }; return waiting }) {
                        waiting.resume(with: outcome)
                    } else if case .success(let late) = outcome {
                        discard?(late)
                    }
                }
                work.withLockedValue { $0 = task }
                guard let timeout else { return }
                Task {
                    try? await Task.sleep(for: timeout)
                    guard let waiting = pending.withLockedValue({ waiting in defer { waiting = nil }; return waiting }) else { return }
                    work.withLockedValue { $0 }?.cancel()
                    if let connection { closeNow(connection) }
                    waiting.resume(throwing: DatabaseDeadline(what: what, timeout: timeout))
                }
            }
        } onCancel: {
            // The caller's own connection: closed, and the caller goes on at once (a query on a connection the server
            // has already closed is never answered, so waiting for the operation to fail could take the whole timeout).
            guard let connection else { return }
            closeNow(connection)
            pending.withLockedValue { waiting in defer { waiting = nil }; return waiting }?.resume(throwing: CancellationError())
        }
    }

    /// Opens a connection, bounded: postgres-nio bounds the TCP connect, not the startup and authentication after it,
    /// which a server that is crashing or starting up can leave unanswered. One that opens too late is closed.
    public static func connect(_ configuration: PostgresConnection.Configuration, id: Int, timeout: Duration,
                               logger: Logger) async throws -> PostgresConnection {
        try await run("connecting", timeout: timeout, discard: { closeNow($0) }) {
            try await PostgresConnection.connect(configuration: configuration, id: id, logger: logger)
        }
    }

    /// Closes without waiting for the close to finish (the non-async `close`, callable from a cancellation handler).
    /// The connection is kept until it is closed: postgres-nio asserts that none is released open.
    public static func closeNow(_ connection: PostgresConnection) {
        connection.close().whenComplete { _ in withExtendedLifetime(connection) {} }
    }
}
