import Foundation
import Logging
import PostgresNIO
import StamCore
import Synchronization

/// A database transaction that writes outbox events: every event goes through `enqueue`, which counts it, so
/// whoever commits knows whether to wake the relays without counting rows by hand at each call site.
///
/// `OutboxTransaction.run` opens and commits the transaction itself and signals the notifier after a commit
/// that enqueued anything. A handler that runs inside someone else's transaction (an `IdempotentConsumer`'s)
/// wraps that connection with `init(connection:logger:)` and signals from its own after-commit hook.
public final class OutboxTransaction: Sendable {
    /// The transaction's connection: pass it as `on:` to the generated repositories to write in the same transaction.
    public let connection: PostgresConnection
    public let logger: Logger
    private let enqueued = Atomic<Int>(0)

    public init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Writes `event` to the outbox in this transaction (`Outbox.enqueue`) and counts it.
    @discardableResult
    public func enqueue<Event: OutboxEvent>(_ event: Event, correlationId: String? = nil) async throws -> UUID {
        let id = try await Outbox.enqueue(event, on: connection, correlationId: correlationId, logger: logger)
        enqueued.add(1, ordering: .relaxed)
        return id
    }

    /// Events enqueued so far.
    public var enqueuedEvents: Int { enqueued.load(ordering: .relaxed) }

    /// Runs `body` in one transaction on `client`. After it commits with events in it, `notifier` wakes the
    /// relays (nil: the relays' poll finds them). A throw rolls everything back and signals nothing.
    public static func run<Result: Sendable>(
        on client: PostgresClient, notifier: OutboxNotifier?, logger: Logger,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (OutboxTransaction) async throws -> Result
    ) async throws -> Result {
        let (result, events) = try await client.withTransaction(logger: logger, isolation: isolation) { connection in
            let transaction = OutboxTransaction(connection: connection, logger: logger)
            let result = try await body(transaction)
            return (result, transaction.enqueuedEvents)
        }
        if events > 0 { notifier?.signal() }
        return result
    }
}
