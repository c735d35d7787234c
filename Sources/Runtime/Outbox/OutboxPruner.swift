import Database
import Logging
import PostgresNIO

/// Retention of the outbox and of the consumers' dedup log, run by every relay (two relays pruning at once
/// is harmless: they skip each other's rows).
///
/// - Published outbox rows are kept `outboxRetention` (default 7 days) after their publish: they are the
///   audit trail of what was sent and when, and the source for replaying a window of events to a consumer
///   that lost its data. Unpublished rows are never deleted, however old: an unpublished row is an event
///   not delivered yet, the one thing this system must not lose.
/// - `processed_messages` rows are kept `processedMessagesRetention` (default 30 days). A duplicate arrives
///   when a relay republishes rows whose confirm it got but whose commit it lost, or when RabbitMQ redelivers
///   a message whose ack was lost; both happen within minutes, or after an outage of the relays or
///   consumers (days at worst). A deliberate replay from the outbox re-sends rows up to `outboxRetention`
///   old, so the dedup window must outlast the outbox's: 30 days covers a week of retention plus weeks of
///   outage, and `stam relay` refuses a dedup window not longer than the outbox retention.
///
/// Deletion goes in small batches (`DELETE ... WHERE id IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)`),
/// each its own short transaction, so pruning never waits on a relay's claim nor makes one wait, and never
/// holds many row locks or a long transaction that would delay vacuum.
public struct OutboxPruner: Sendable {
    public struct Configuration: Sendable {
        public var outboxRetention: Duration
        public var processedMessagesRetention: Duration
        public var interval: Duration
        public var batchSize: Int

        public init(outboxRetention: Duration = .seconds(7 * 86_400), processedMessagesRetention: Duration = .seconds(30 * 86_400),
                    interval: Duration = .seconds(300), batchSize: Int = 1000) {
            self.outboxRetention = outboxRetention
            self.processedMessagesRetention = processedMessagesRetention
            self.interval = interval
            self.batchSize = batchSize
        }
    }

    public struct Pruned: Sendable, Equatable {
        public var outbox: Int
        public var processedMessages: Int

        public init(outbox: Int, processedMessages: Int) {
            self.outbox = outbox
            self.processedMessages = processedMessages
        }
    }

    let configuration: Configuration
    let metrics: OutboxRelayMetrics
    let logger: Logger

    public init(configuration: Configuration, metrics: OutboxRelayMetrics, logger: Logger) {
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
    }

    /// Deletes everything past retention, batch by batch, and counts it in the metrics.
    public func pruneOnce(on connection: PostgresConnection) async throws -> Pruned {
        let outboxSeconds = Self.seconds(configuration.outboxRetention)
        let processedSeconds = Self.seconds(configuration.processedMessagesRetention)
        let limit = configuration.batchSize
        var pruned = Pruned(outbox: 0, processedMessages: 0)
        // `published_at < ...` is never true for NULL: unpublished rows are out of reach whatever their age.
        // Oldest first (seq order). A row published before the cutoff was created before it, and seq follows
        // creation, so the scan is bounded by the first row created after the cutoff: without the bound, the
        // last batch of every run (the one that finds less than `limit`) walked the whole table, days of
        // events, through the seq index. (A row created in a long transaction can sit above the bound; it is
        // pruned a run later, once the rows below it have aged out.)
        while !Task.isCancelled {
            let deleted = try await deleteCount(connection, PostgresQuery("""
                WITH deleted AS (
                  DELETE FROM outbox WHERE id IN (
                    SELECT id FROM outbox
                    WHERE published_at < now() - make_interval(secs => \(outboxSeconds))
                      AND seq < coalesce((SELECT seq FROM outbox WHERE created_at >= now() - make_interval(secs => \(outboxSeconds))
                                          ORDER BY seq LIMIT 1), 9223372036854775807)
                    ORDER BY seq LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                  RETURNING 1)
                SELECT count(*)::int FROM deleted
                """))
            pruned.outbox += deleted
            metrics.recordPruned(outbox: deleted, processedMessages: 0)
            if deleted < limit { break }
        }
        while !Task.isCancelled {
            let deleted = try await deleteCount(connection, PostgresQuery("""
                WITH deleted AS (
                  DELETE FROM processed_messages WHERE (consumer, message_id) IN (
                    SELECT consumer, message_id FROM processed_messages
                    WHERE processed_at < now() - make_interval(secs => \(processedSeconds))
                    ORDER BY processed_at LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                  RETURNING 1)
                SELECT count(*)::int FROM deleted
                """))
            pruned.processedMessages += deleted
            metrics.recordPruned(outbox: 0, processedMessages: deleted)
            if deleted < limit { break }
        }
        if pruned.outbox > 0 || pruned.processedMessages > 0 {
            logger.info("pruned past retention", metadata: ["outbox": "\(pruned.outbox)", "processed_messages": "\(pruned.processedMessages)"])
        }
        return pruned
    }

    /// Prunes every `interval` on a connection of its own until cancelled; a failure waits for the next round.
    func run(database: PostgresConnection.Configuration) async {
        while !Task.isCancelled {
            do {
                try await SessionConnection.run(database, id: 4, logger: logger) { connection in
                    while !Task.isCancelled {
                        // Bounded generously: a pass deletes in batches of `limit`, and a large backlog takes a while.
                        _ = try await SessionConnection.round("pruning", timeout: .seconds(300), on: connection) {
                            try await pruneOnce(on: connection)
                        }
                        try await Task.sleep(for: configuration.interval)
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("outbox pruning failed; retrying next round", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: configuration.interval)
            }
        }
    }

    private func deleteCount(_ connection: PostgresConnection, _ query: PostgresQuery) async throws -> Int {
        // Counted in the database: one row back instead of one per deleted row.
        var count = 0
        for try await value in try await connection.query(query, logger: logger).decode(Int.self) { count = value }
        return count
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
