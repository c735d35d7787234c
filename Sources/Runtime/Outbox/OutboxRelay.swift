import Database
import Foundation
import Logging
import Messaging
import PostgresNIO
import ServiceLifecycle

/// `stam relay`: publishes outbox rows to RabbitMQ. Several relays run at once.
///
/// A batch is claimed with `FOR UPDATE SKIP LOCKED` in seq order, published with confirms, marked published
/// and committed; only then are the row locks released. What happens on a crash at each step:
/// - before the publish, or during it: the transaction dies with the connection, the rows stay unpublished
///   and another relay (or this one, restarted) publishes them;
/// - after the confirms but before the commit: the rows are published again later; consumers drop the
///   duplicates by message id (the row id);
/// - after the commit, before PostgreSQL flushed it (the batch commits with `synchronous_commit = off`, so a
///   database crash can forget the last few hundred milliseconds of "published" marks): the same as above,
///   published again, dropped as duplicates. Nothing the relay writes is an effect of its own;
/// - paused (SIGSTOP) or cut off from PostgreSQL mid-batch: the server ends the idle transaction after
///   `batchTimeout`, its locks go, another relay publishes the rows (again, if this one had published them);
/// - broker down: the publish fails, the transaction rolls back, the relay backs off and retries; nothing
///   is skipped because nothing is marked published without its confirm.
///
/// Order per aggregate: SKIP LOCKED alone would let two relays reorder one panel's events. A claim therefore
/// first takes a transaction-scoped advisory lock per aggregate, then claims rows of those aggregates only:
/// a relay can only claim rows of aggregates no other relay is publishing, and since it holds a claimed
/// aggregate until commit, the next batch of that aggregate starts after this one is confirmed. Each message
/// also carries its outbox `seq` (header `x-outbox-seq`) so consumers can see the order.
///
/// Sharing the work: a claim locks at most `maxAggregatesPerBatch` aggregates, those with the oldest pending
/// rows (among the first `4 x batchSize` pending rows) that no other relay holds. Locking every aggregate a
/// seq-ordered scan meets, as a single-statement claim does, would hand all of them to whichever relay came
/// first (500 rows interleave hundreds of panels), leaving the second relay idle; capped, the two relays
/// publish disjoint sets of panels at once (docs: `make bench`, OutboxBench). With few panels one relay may
/// still hold them all; the other then stands by as the failover the seed asks for.
public struct OutboxRelay: Service {
    public struct Configuration: Sendable {
        public var instance: String
        public var batchSize: Int
        /// Fallback poll when no NOTIFY arrives (e.g. LISTEN is not possible through PgBouncer).
        public var pollInterval: Duration
        public var heartbeatInterval: Duration
        /// Retention of published rows and of `processed_messages` (`OutboxPruner`); nil: this relay does
        /// not prune.
        public var retention: OutboxPruner.Configuration?
        /// Aggregates one claim may lock (see the type's comment). 64 keeps a burst of one event from each of
        /// a thousand panels at ~16 batches for one relay, while leaving most aggregates of a backlog to the
        /// other relay.
        public var maxAggregatesPerBatch: Int
        /// The longest a batch may take, claim to commit. A relay paused or cut off from PostgreSQL mid-batch holds
        /// its rows and its aggregates' advisory locks, and every other relay skips those aggregates: PostgreSQL ends
        /// such a transaction once it has been idle this long (`idle_in_transaction_session_timeout`, publishing
        /// included), and the relay itself gives up waiting after it (`DatabaseDeadline`). A batch that outlives it
        /// (a broker in flow control) is published again later and its duplicates dropped by message id.
        public var batchTimeout: Duration

        public init(instance: String, batchSize: Int = 500, pollInterval: Duration = .seconds(2),
                    heartbeatInterval: Duration = .seconds(5), retention: OutboxPruner.Configuration? = .init(),
                    maxAggregatesPerBatch: Int = 64, batchTimeout: Duration = .seconds(30)) {
            self.batchTimeout = batchTimeout
            self.instance = instance
            self.batchSize = batchSize
            self.maxAggregatesPerBatch = maxAggregatesPerBatch
            self.pollInterval = pollInterval
            self.heartbeatInterval = heartbeatInterval
            self.retention = retention
        }
    }

    /// Advisory lock class of the per-aggregate claim lock ("stam" in ASCII).
    static let aggregateLockClass: Int32 = 0x7374_616D

    let configuration: Configuration
    let database: PostgresConnection.Configuration
    /// Where to LISTEN: the database itself, or (behind PgBouncer, whose transaction pooling cannot carry a
    /// LISTEN) every PostgreSQL node directly. Only the primary accepts it and sends notifications; a node in
    /// recovery refuses and is tried again every second, so after a failover the new primary's connection
    /// takes over by itself.
    let listenDatabases: [PostgresConnection.Configuration]
    let publisher: Publisher
    public let metrics: OutboxRelayMetrics
    let logger: Logger

    public init(configuration: Configuration, database: PostgresConnection.Configuration,
                listenDatabases: [PostgresConnection.Configuration]? = nil, publisher: Publisher,
                metrics: OutboxRelayMetrics = OutboxRelayMetrics(), logger: Logger) {
        self.configuration = configuration
        self.database = database
        self.listenDatabases = listenDatabases ?? [database]
        self.publisher = publisher
        self.metrics = metrics
        self.logger = logger
    }

    public func run() async throws {
        let wakeUp = WakeUpSignal()
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                for listenDatabase in listenDatabases {
                    group.addTask { await listen(wakeUp, on: listenDatabase) }
                }
                group.addTask { await heartbeat() }
                if let retention = configuration.retention {
                    let pruner = OutboxPruner(configuration: retention, metrics: metrics, logger: logger)
                    group.addTask { await pruner.run(database: database) }
                }
                await relayLoop(wakeUp: wakeUp)
                group.cancelAll()
            }
        } onGracefulShutdown: {
            wakeUp.signal()
        }
        await publisher.close()
    }

    /// Claims and publishes until shut down; sleeps until a NOTIFY or the poll interval when idle.
    private func relayLoop(wakeUp: WakeUpSignal) async {
        var connection: PostgresConnection?
        var backoff = Duration.milliseconds(100)
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                if let open = connection, open.isClosed {
                    // The server closed it (a restart, a failover): a query sent on it would never be answered.
                    connection = nil
                }
                if connection == nil {
                    connection = try await DatabaseDeadline.connect(database, id: 1, timeout: configuration.batchTimeout, logger: logger)
                }
                let current = connection!
                let outcome = try await DatabaseDeadline.run("publishing an outbox batch", timeout: configuration.batchTimeout,
                                                             closing: current) {
                    try await relayBatch(on: current)
                }
                backoff = .milliseconds(100)
                // Published something: there may be more (a claim is capped by aggregates, not only rows).
                if outcome.published > 0 { continue }
                if outcome.blocked {
                    // Rows wait but another relay holds their aggregates: look again as soon as it may be done.
                    try? await Task.sleep(for: .milliseconds(10))
                    continue
                }
                // Idle: wait for a NOTIFY or the poll interval, whichever comes first.
                await wakeUp.wait(upTo: configuration.pollInterval)
            } catch {
                metrics.recordFailure()
                logger.warning("outbox relay batch failed; retrying", metadata: ["error": "\(error)", "backoff": "\(backoff)"])
                if let failed = connection { DatabaseDeadline.closeNow(failed) }
                connection = nil
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(5))
            }
        }
        if let connection { try? await connection.close() }
    }

    struct BatchOutcome {
        /// Rows published (confirmed and marked).
        var published: Int
        /// Nothing was claimable although rows wait: other relays hold all their aggregates.
        var blocked: Bool
    }

    /// One batch in one transaction.
    func relayBatch(on connection: PostgresConnection) async throws -> BatchOutcome {
        let start = ContinuousClock.now
        let (batchSize, publisher, logger) = (configuration.batchSize, self.publisher, self.logger)
        let (window, maxAggregates) = (batchSize * 4, configuration.maxAggregatesPerBatch)
        let idleMilliseconds = configuration.batchTimeout.components.seconds * 1000
            + configuration.batchTimeout.components.attoseconds / 1_000_000_000_000_000
        let outcome = try await connection.withTransaction(logger: logger) { connection -> BatchOutcome in
            // The batch's commit only records "published": lost in a database crash, the rows are published
            // again and consumers drop the duplicates by message id. So it need not wait for the WAL flush.
            // A transaction left idle past the batch timeout (its relay paused or partitioned) is ended by the server,
            // which frees its aggregates for the other relays.
            _ = try await connection.query("""
                SELECT set_config('synchronous_commit', 'off', true),
                       set_config('idle_in_transaction_session_timeout', \(String(idleMilliseconds)), true)
                """, logger: logger).collect()
            // 1. Lock aggregates, oldest pending first.
            let locked = try await Self.lockAggregates(window: window, limit: maxAggregates, on: connection, logger: logger)
            let claimable = locked.map(\.aggregate)
            let oldestPending = Dictionary(uniqueKeysWithValues: locked.map { ($0.aggregate, $0.firstSeq) })
            if claimable.isEmpty {
                let waiting = try await connection.query("SELECT EXISTS (SELECT 1 FROM outbox WHERE published_at IS NULL)", logger: logger)
                var blocked = false
                for try await exists in waiting.decode(Bool.self) { blocked = exists }
                return BatchOutcome(published: 0, blocked: blocked)
            }
            // 2. Claim the oldest pending rows of those aggregates. This statement's snapshot is taken after
            // the locks: every batch of these aggregates that another relay published is committed and seen.
            let rows = try await connection.query("""
                SELECT id, seq, aggregate_type, aggregate_id, event_name, event_version, exchange, routing_key,
                       payload::text, headers ->> 'correlation_id', created_at
                FROM outbox
                WHERE published_at IS NULL AND aggregate_id = ANY(\(claimable))
                ORDER BY seq
                LIMIT \(batchSize)
                FOR UPDATE SKIP LOCKED
                """, logger: logger)
            var ids: [UUID] = []
            var aggregates: [UUID] = []
            var messages: [OutgoingMessage] = []
            for try await (id, seq, aggregateType, aggregateId, eventName, version, exchange, routingKey, payload, correlationId, createdAt)
                in rows.decode((UUID, Int64, String, UUID, String, Int32, String, String, String, String?, Date).self) {
                ids.append(id)
                aggregates.append(aggregateId)
                messages.append(OutgoingMessage(
                    exchange: exchange, routingKey: routingKey, messageId: id.uuidString.lowercased(), type: eventName,
                    timestamp: createdAt, correlationId: correlationId,
                    headers: ["x-outbox-seq": String(seq), "x-aggregate-type": aggregateType,
                              "x-aggregate-id": aggregateId.uuidString.lowercased(), "x-event-version": String(version)],
                    body: Array(payload.utf8)))
            }
            guard !ids.isEmpty else { return BatchOutcome(published: 0, blocked: true) }
            // Defence in depth, for the order per aggregate: an older unpublished row of a claimed aggregate that
            // this claim did not get (skipped as row-locked by something that is not a relay) means the
            // aggregate is not ours to publish now: hold it back. Step 1 saw each aggregate's oldest pending row
            // (its window is a prefix of the pending rows in seq order); when the claim starts there, nothing
            // older was skipped. Only the others (whose older rows another relay published between step 1's
            // snapshot and its lock, or that were skipped) need the query, which walks the aggregate's history.
            var firstSeq: [UUID: Int64] = [:]
            for (index, message) in messages.enumerated() {
                let aggregate = aggregates[index]
                if firstSeq[aggregate] == nil { firstSeq[aggregate] = Int64(message.headers["x-outbox-seq"] ?? "") ?? 0 }
            }
            let candidates = firstSeq.keys.filter { firstSeq[$0] != oldestPending[$0] }
            let thresholds = candidates.map { firstSeq[$0]! }
            var heldBack = Set<UUID>()
            if !candidates.isEmpty {
                let older = try await connection.query("""
                    SELECT b.aggregate_id FROM unnest(\(candidates)::uuid[], \(thresholds)::bigint[]) AS b(aggregate_id, first_seq)
                    WHERE EXISTS (SELECT 1 FROM outbox o WHERE o.aggregate_id = b.aggregate_id
                                  AND o.published_at IS NULL AND o.seq < b.first_seq)
                    """, logger: logger)
                for try await aggregate in older.decode(UUID.self) { heldBack.insert(aggregate) }
            }
            if !heldBack.isEmpty {
                let keep = messages.indices.filter { !heldBack.contains(aggregates[$0]) }
                ids = keep.map { ids[$0] }
                messages = keep.map { messages[$0] }
                guard !ids.isEmpty else { return BatchOutcome(published: 0, blocked: true) }
            }
            let nacked = try await publisher.publish(messages)
            let confirmed = ids.enumerated().filter { !nacked.contains($0.offset) }.map(\.element)
            let refused = nacked.sorted().map { ids[$0] }
            try await connection.query("UPDATE outbox SET published_at = now(), attempts = attempts + 1 WHERE id = ANY(\(confirmed))", logger: logger)
            if !refused.isEmpty {
                try await connection.query(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = 'refused by the broker (nack)' WHERE id = ANY(\(refused))",
                    logger: logger)
            }
            return BatchOutcome(published: confirmed.count, blocked: false)
        }
        if outcome.published > 0 { metrics.recordBatch(published: outcome.published, duration: ContinuousClock.now - start) }
        return outcome
    }

    /// Takes the transaction-scoped advisory lock of at most `limit` aggregates that no other relay holds,
    /// those with the oldest pending rows among the first `window` pending rows, oldest first.
    ///
    /// The lock is in the WHERE of an outer query and `pending` ends in `OFFSET 0`, so LIMIT stops locking
    /// once it has enough. Without the OFFSET, PostgreSQL pushes the volatile lock call down into the
    /// grouping (as a HAVING filter) and locks every aggregate of the window before sorting and limiting:
    /// one relay then held all of them and a second relay found nothing to claim until it committed (the
    /// two alternated instead of publishing side by side; OutboxBench showed two relays slower than one).
    static func lockAggregates(window: Int, limit: Int, on connection: PostgresConnection,
                               logger: Logger) async throws -> [(aggregate: UUID, firstSeq: Int64)] {
        let rows = try await connection.query("""
            SELECT aggregate_id, first_seq
            FROM (SELECT aggregate_id, min(seq) AS first_seq
                  FROM (SELECT aggregate_id, seq FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT \(window)) AS head
                  GROUP BY aggregate_id ORDER BY first_seq OFFSET 0) AS pending
            WHERE pg_try_advisory_xact_lock(\(aggregateLockClass), hashtext(aggregate_id::text))
            LIMIT \(limit)
            """, logger: logger)
        var locked: [(aggregate: UUID, firstSeq: Int64)] = []
        for try await (aggregate, first) in rows.decode((UUID, Int64).self) { locked.append((aggregate, first)) }
        return locked
    }

    /// LISTENs on a connection of its own (LISTEN needs a session; through PgBouncer's transaction pooling it
    /// does not work, hence `listenDatabases`; the poll interval covers any gap). Reconnects after a second on
    /// any failure, including "cannot execute LISTEN during recovery" on a standby.
    private func listen(_ wakeUp: WakeUpSignal, on database: PostgresConnection.Configuration) async {
        while !Task.isCancelled {
            do {
                try await SessionConnection.run(database, id: 2, logger: logger) { connection in
                    for try await _ in try await connection.listen(Outbox.channel) {
                        wakeUp.signal()
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.debug("outbox LISTEN connection failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// Refreshes this relay's row in `outbox_relays`, reads how many relays are alive and how many rows wait
    /// (a count over the partial index of unpublished rows: cheap while the backlog is small, and a large
    /// backlog is exactly when the figure matters).
    private func heartbeat() async {
        while !Task.isCancelled {
            do {
                try await SessionConnection.run(database, id: 3, logger: logger) { connection in
                while !Task.isCancelled {
                    try await SessionConnection.round("the relay's heartbeat", timeout: .seconds(10), on: connection) {
                        try await connection.query("""
                            INSERT INTO outbox_relays (instance) VALUES (\(configuration.instance))
                            ON CONFLICT (instance) DO UPDATE SET heartbeat_at = now()
                            """, logger: logger)
                        let seconds = Int(configuration.heartbeatInterval.components.seconds) * 3
                        let rows = try await connection.query(
                            "SELECT count(*)::int FROM outbox_relays WHERE heartbeat_at > now() - make_interval(secs => \(seconds))",
                            logger: logger)
                        for try await count in rows.decode(Int.self) { metrics.setActiveInstances(count) }
                        let pending = try await connection.query("SELECT count(*)::int FROM outbox WHERE published_at IS NULL", logger: logger)
                        for try await count in pending.decode(Int.self) { metrics.setPendingRows(count) }
                    }
                    try await Task.sleep(for: configuration.heartbeatInterval)
                }
                }
            } catch {
                if Task.isCancelled { return }
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}
