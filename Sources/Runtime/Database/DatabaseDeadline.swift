import NIOConcurrencyHelpers

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

    /// Runs `operation`, or throws `DatabaseDeadline` after `timeout` and leaves it behind, cancelled. A caller on its
    /// own connection closes it next, which ends the abandoned operation's wait.
    public static func run<Result: Sendable>(_ what: String, timeout: Duration,
                                      _ operation: @escaping @Sendable () async throws -> Result) async throws -> Result {
        let pending = NIOLockedValueBox<CheckedContinuation<Result, any Error>?>(nil)
        let work = NIOLockedValueBox<Task<Void, Never>?>(nil)
        return try await withCheckedThrowingContinuation { continuation in
            pending.withLockedValue { $0 = continuation }
            let task = Task {
                let outcome: Swift.Result<Result, any Error>
                do { outcome = .success(try await operation()) } catch { outcome = .failure(error) }
                pending.withLockedValue { waiting in defer { waiting = nil }; return waiting }?.resume(with: outcome)
            }
            work.withLockedValue { $0 = task }
            Task {
                try? await Task.sleep(for: timeout)
                guard let waiting = pending.withLockedValue({ waiting in defer { waiting = nil }; return waiting }) else { return }
                work.withLockedValue { $0 }?.cancel()
                waiting.resume(throwing: DatabaseDeadline(what: what, timeout: timeout))
            }
        }
    }
}
