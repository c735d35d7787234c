import Logging
import PostgresNIO
import ServiceLifecycle

/// Wakes the relays after outbox rows have committed: writers call `signal()` once their transaction is
/// done, and this service sends `NOTIFY stam_outbox` on a pooled connection of its own.
///
/// Why not NOTIFY inside the writing transaction (it would also be delivered only at commit): PostgreSQL
/// serialises the commits of all notifying transactions in the cluster (`PreCommit_Notify` takes a global
/// lock and holds it through the commit's WAL flush). At 500 panels the worker's commits queued behind each
/// other on that lock and its p99 commit latency doubled. Sent afterwards, a NOTIFY costs the writer nothing,
/// and signals that arrive while one is in flight collapse into one more: at most one NOTIFY at a time.
///
/// Crash between a commit and its NOTIFY (or a failed NOTIFY): nothing is lost; the row is committed and a
/// relay finds it on its fallback poll (`OutboxRelay.Configuration.pollInterval`) or with the next NOTIFY.
public final class OutboxNotifier: Service, Sendable {
    private let client: PostgresClient
    private let logger: Logger
    private let signals: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
        // Newest-one buffering is the coalescing: any number of signals while a NOTIFY is in flight leave
        // exactly one pending.
        (signals, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// There are newly committed outbox rows. Never blocks; call it after the commit, not inside.
    public func signal() {
        continuation.yield()
    }

    public func run() async {
        await withGracefulShutdownHandler {
            for await _ in signals {
                do {
                    try await client.query("NOTIFY \(unescaped: Outbox.channel)", logger: logger)
                } catch {
                    logger.debug("outbox NOTIFY failed; the relays' poll picks the rows up", metadata: ["error": "\(error)"])
                }
            }
        } onGracefulShutdown: { [continuation] in
            continuation.finish()
        }
    }
}
