import Database
import Foundation
import Logging
import Messaging
import PostgresNIO
import ServiceLifecycle

/// Consumes a queue so that every message has its effect exactly once: the message id is recorded in
/// `processed_messages` in the same transaction as the handler's writes, so a redelivered duplicate finds
/// its id and is acknowledged without a second effect.
///
/// Failures: when the handler throws, the message is requeued, and after `maxAttempts` deliveries it is
/// rejected to the queue's dead-letter exchange so one poison message cannot stop the queue. When the
/// database is unreachable the handler is not at fault: the message is held (not acknowledged, not
/// requeued, so it burns no attempts) and retried with backoff until the database is back. A database that goes
/// silent (a partition: no error, every call hangs) counts as unreachable after `transactionTimeout`: the consumer
/// stops waiting (`DatabaseDeadline`), and the server ends the abandoned transaction once it has been idle that long,
/// so the retry does not wait on its locks (the batch's `processed_messages` rows).
public struct IdempotentConsumer: Service {
    public typealias Handler = @Sendable (Delivery, PostgresConnection) async throws -> Void
    /// A handler that also gets the transaction, for work that must wait for the commit.
    public typealias TransactionalHandler = @Sendable (Delivery, PostgresConnection, ConsumerTransaction) async throws -> Void

    /// A failure of the handler itself, as opposed to the infrastructure around it.
    struct HandlerFailure: Error {
        var underlying: any Error
    }

    let name: String
    let consumer: QueueConsumer
    let database: PostgresConnection.Configuration
    let maxAttempts: Int
    let batchSize: Int
    let handler: TransactionalHandler
    let metrics: IdempotentConsumerMetrics?
    let transactionTimeout: Duration
    let logger: Logger

    public init(name: String, consumer: QueueConsumer, database: PostgresConnection.Configuration, maxAttempts: Int = 5,
                batchSize: Int = 100, transactionTimeout: Duration = .seconds(15), metrics: IdempotentConsumerMetrics? = nil,
                logger: Logger, handler: @escaping TransactionalHandler) {
        self.transactionTimeout = transactionTimeout
        self.batchSize = batchSize
        self.name = name
        self.consumer = consumer
        self.database = database
        self.maxAttempts = maxAttempts
        self.handler = handler
        self.metrics = metrics
        self.logger = logger
    }

    public init(name: String, consumer: QueueConsumer, database: PostgresConnection.Configuration, maxAttempts: Int = 5,
                batchSize: Int = 100, transactionTimeout: Duration = .seconds(15), metrics: IdempotentConsumerMetrics? = nil,
                logger: Logger, handler: @escaping Handler) {
        self.init(name: name, consumer: consumer, database: database, maxAttempts: maxAttempts, batchSize: batchSize,
                  transactionTimeout: transactionTimeout, metrics: metrics, logger: logger) { delivery, connection, _ in
            try await handler(delivery, connection)
        }
    }

    public func run() async throws {
        var connection: PostgresConnection?
        defer {
            // Both connections end with the consumer: unacknowledged messages go back to the queue at once
            // instead of when the broker notices a dead socket.
            let (database, queue) = (connection, consumer)
            Task {
                if let database { try? await database.close() }
                await queue.close()
            }
        }
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            var batch: [Delivery]
            do {
                batch = try await consumer.nextBatch(limit: batchSize, timeout: 1)
            } catch {
                logger.warning("consumer lost RabbitMQ; reconnecting", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
                continue
            }
            // A message without a usable id cannot be deduplicated: dead-letter it (counted in the log).
            batch = await batch.asyncFilter { delivery in
                if delivery.messageId.flatMap(UUID.init(uuidString:)) != nil { return true }
                logger.error("message without a valid message_id; dead-lettering it", metadata: ["routing_key": "\(delivery.routingKey)"])
                try? await consumer.reject(delivery, requeue: false)
                metrics?.recordDeadLettered()
                return false
            }
            guard !batch.isEmpty else { continue }
            var backoff = Duration.milliseconds(200)
            // On shutdown the held batch is left unacknowledged: the broker delivers it again to the next consumer.
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                do {
                    if let open = connection, open.isClosed {
                        // The server closed it (a restart, a failover): a query sent on it would never be answered.
                        connection = nil
                    }
                    if connection == nil {
                        connection = try await DatabaseDeadline.connect(database, id: 1, timeout: transactionTimeout, logger: logger)
                    }
                    // Fast path: the whole batch in one transaction (one commit, one fsync). If any handler
                    // fails, the batch rolls back and each message is redone alone to isolate the failure.
                    let (current, held) = (connection!, batch)
                    try await DatabaseDeadline.run("storing a batch of messages", timeout: transactionTimeout, closing: current) {
                        do {
                            try await apply(held, on: current)
                            for delivery in held { try? await consumer.ack(delivery) }
                        } catch let error as PostgresTransactionError where error.closureError is HandlerFailure {
                            for delivery in held { try await applyAlone(delivery, on: current) }
                        }
                    }
                    break
                } catch {
                    logger.warning("database unavailable; holding the messages", metadata: ["error": "\(error)", "backoff": "\(backoff)"])
                    if let failed = connection { DatabaseDeadline.closeNow(failed) }
                    connection = nil
                    try? await Task.sleep(for: backoff)
                    backoff = min(backoff * 2, .seconds(5))
                }
            }
        }
    }

    /// One message in its own transaction: ack on success, requeue or dead-letter on a handler failure.
    private func applyAlone(_ delivery: Delivery, on connection: PostgresConnection) async throws {
        do {
            try await apply([delivery], on: connection)
            try? await consumer.ack(delivery)
        } catch let error as PostgresTransactionError where error.closureError is HandlerFailure {
            let attempt = delivery.deliveryCount + 1
            let deadLetter = attempt >= maxAttempts
            logger.warning("handler failed", metadata: [
                "message_id": "\(delivery.messageId ?? "")", "attempt": "\(attempt)", "dead_letter": "\(deadLetter)",
                "error": "\((error.closureError as? HandlerFailure)?.underlying ?? error)",
            ])
            try? await consumer.reject(delivery, requeue: !deadLetter)
            if deadLetter { metrics?.recordDeadLettered() }
        }
    }

    private func apply(_ batch: [Delivery], on connection: PostgresConnection) async throws {
        let (name, handler, logger) = (self.name, self.handler, self.logger)
        let ids = batch.compactMap { $0.messageId.flatMap(UUID.init(uuidString:)) }
        let transaction = ConsumerTransaction()
        let idleMilliseconds = String(transactionTimeout.components.seconds * 1000 + transactionTimeout.components.attoseconds / 1_000_000_000_000_000)
        let consumed = try await connection.withTransaction(logger: logger) { connection in
            _ = try await connection.query("SELECT set_config('idle_in_transaction_session_timeout', \(idleMilliseconds), true)",
                                           logger: logger).collect()
            // One statement records the whole batch; the ids it returns are the ones not seen before.
            let rows = try await connection.query("""
                INSERT INTO processed_messages (consumer, message_id) SELECT \(name), unnest(\(ids)::uuid[])
                ON CONFLICT DO NOTHING RETURNING message_id
                """, logger: logger)
            var fresh = Set<UUID>()
            for try await id in rows.decode(UUID.self) { fresh.insert(id) }
            var consumed = 0
            for delivery in batch {
                // A duplicate (its effect is already committed) is skipped.
                guard let id = delivery.messageId.flatMap(UUID.init(uuidString:)), fresh.remove(id) != nil else { continue }
                do {
                    try await handler(delivery, connection, transaction)
                } catch {
                    throw HandlerFailure(underlying: error)
                }
                consumed += 1
            }
            return consumed
        }
        transaction.committed()
        metrics?.recordCommitted(consumed: consumed, duplicates: batch.count - consumed)
    }
}

extension Array where Element: Sendable {
    func asyncFilter(_ isIncluded: (Element) async -> Bool) async -> [Element] {
        var result: [Element] = []
        for element in self where await isIncluded(element) { result.append(element) }
        return result
    }
}
