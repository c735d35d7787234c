import APISupport
import Logging
import Outbox
import Persistence

extension DatabaseContext {
    /// `transaction` (its errors unwrapped for the API) for a write with outbox events: they go through the
    /// `OutboxTransaction`, and the relays are woken after a commit that has any.
    func outboxTransaction<Result: Sendable>(notifier: OutboxNotifier, logger: Logger,
                                             _ body: (OutboxTransaction) async throws -> Result) async throws -> Result {
        let (result, events) = try await transaction { connection in
            let transaction = OutboxTransaction(connection: connection, logger: logger)
            let result = try await body(transaction)
            return (result, transaction.enqueuedEvents)
        }
        if events > 0 { notifier.signal() }
        return result
    }
}
