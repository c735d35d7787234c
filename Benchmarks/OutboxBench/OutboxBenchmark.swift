import Database
import Foundation
import Generated
import Logging
import Messaging
import Outbox
import PostgresNIO
import StamCore

/// The outbox's throughput against its ceiling, the broker itself: (a) confirmed publishes of the same
/// messages by the same `Publisher` straight to the broker, (b) and (c) events/s through the outbox with one
/// and with two in-process `OutboxRelay`s, from relay start until every pre-inserted row is published.
struct OutboxBenchmark {
    struct Result {
        var scenario: String
        var events: Int
        var seconds: Double
    }

    var events: Int
    var aggregates: Int
    var batchSize: Int
    let stack: BenchStack
    let logger: Logger
    let queue = "bench.events"

    /// The production topology plus a durable quorum queue bound to every panel event, as the real
    /// consumers' queues are: without a queue the broker would drop the messages and confirm for free.
    var topology: MessagingTopology {
        var topology = StamTopology.messaging
        topology.queues.append(.init(name: queue, quorum: true, deadLetterExchange: "dead_letter", deliveryLimit: 5,
                                     bindings: [.init(exchange: "events", routingKey: "panel.#")]))
        return topology
    }

    /// Empties the outbox and the queue, then writes `events` rows with `Outbox.enqueue`, 500 per transaction,
    /// round-robin over `aggregates` panels (so every batch a relay claims interleaves many aggregates).
    func prepare() async throws {
        let connection = try await stack.connect(logger)
        defer { Task { try? await connection.close() } }
        try await connection.query("TRUNCATE outbox", logger: logger)
        _ = try? stack.rabbit.ctl(["purge_queue", "-p", stack.rabbit.virtualHost, queue])
        let panels = (0..<aggregates).map { _ in UUID() }
        let start = Date(timeIntervalSince1970: 1_750_000_000)
        for first in stride(from: 0, to: events, by: 500) {
            try await connection.withTransaction(logger: logger) { connection in
                for index in first..<min(events, first + 500) {
                    let event = ZoneStateChanged(panelId: panels[index % aggregates], zoneNumber: 1 + index % 128,
                                                 state: index % 2 == 0 ? .violated : .normal, previous: index % 2 == 0 ? .normal : .violated,
                                                 at: start.addingTimeInterval(Double(index) / 1000))
                    try await Outbox.enqueue(event, on: connection, correlationId: "bench-\(index / 500)", logger: logger)
                }
            }
        }
        try await connection.query("VACUUM ANALYZE outbox", logger: logger)
    }

    /// The messages a relay would publish for the current rows, built the same way (headers, properties, body).
    func messages() async throws -> [OutgoingMessage] {
        let connection = try await stack.connect(logger)
        defer { Task { try? await connection.close() } }
        let rows = try await connection.query("""
            SELECT id, seq, aggregate_type, aggregate_id, event_name, event_version, exchange, routing_key,
                   payload::text, headers ->> 'correlation_id', created_at
            FROM outbox ORDER BY seq
            """, logger: logger)
        var messages: [OutgoingMessage] = []
        for try await (id, seq, aggregateType, aggregateId, eventName, version, exchange, routingKey, payload, correlationId, createdAt)
            in rows.decode((UUID, Int64, String, UUID, String, Int32, String, String, String, String?, Date).self) {
            messages.append(OutgoingMessage(
                exchange: exchange, routingKey: routingKey, messageId: id.uuidString.lowercased(), type: eventName,
                timestamp: createdAt, correlationId: correlationId,
                headers: ["x-outbox-seq": String(seq), "x-aggregate-type": aggregateType,
                          "x-aggregate-id": aggregateId.uuidString.lowercased(), "x-event-version": String(version)],
                body: Array(payload.utf8)))
        }
        return messages
    }

    func publisher() async throws -> Publisher {
        let publisher = Publisher(configuration: stack.amqp, topology: topology, logger: logger)
        // The broker opens its port before its default user exists: retry the first connection briefly.
        for attempt in 1... {
            do {
                try await publisher.connect()
                return publisher
            } catch where attempt < 50 {
                try await Task.sleep(for: .milliseconds(200))
            }
        }
        fatalError("unreachable")
    }

    /// (a) The same messages, `batchSize` per confirm round, straight through one `Publisher`.
    func ceiling() async throws -> Result {
        try await prepare()
        let messages = try await messages()
        let publisher = try await publisher()
        let clock = ContinuousClock()
        let start = clock.now
        for first in stride(from: 0, to: messages.count, by: batchSize) {
            let nacked = try await publisher.publish(Array(messages[first..<min(messages.count, first + batchSize)]))
            precondition(nacked.isEmpty, "the broker refused messages")
        }
        let elapsed = clock.now - start
        await publisher.close()
        return Result(scenario: "ceiling: confirmed publishes, one Publisher, \(batchSize) per confirm round", events: messages.count,
                      seconds: Self.seconds(elapsed))
    }

    /// (b), (c) `relays` relays in this process, each with its own Publisher (connected before the clock
    /// starts), until every row is published.
    func throughOutbox(relays count: Int) async throws -> Result {
        try await prepare()
        var relays: [OutboxRelay] = []
        for index in 0..<count {
            relays.append(OutboxRelay(
                configuration: .init(instance: "bench-\(index)", batchSize: batchSize, retention: nil),
                database: stack.database.connectionConfiguration, publisher: try await publisher(), logger: logger))
        }
        let clock = ContinuousClock()
        let start = clock.now
        let elapsed = try await withThrowingTaskGroup(of: Void.self) { group in
            for relay in relays { group.addTask { try await relay.run() } }
            while relays.map(\.metrics.published).reduce(0, +) < events {
                try await Task.sleep(for: .milliseconds(2))
            }
            let elapsed = clock.now - start
            group.cancelAll()
            return elapsed
        }
        let connection = try await stack.connect(logger)
        defer { Task { try? await connection.close() } }
        var pending = -1
        for try await value in try await connection.query("SELECT count(*)::int FROM outbox WHERE published_at IS NULL", logger: logger).decode(Int.self) {
            pending = value
        }
        precondition(pending == 0, "\(pending) rows left unpublished")
        let share = relays.map { String($0.metrics.published) }.joined(separator: " + ")
        return Result(scenario: "outbox, \(count) relay\(count == 1 ? "" : "s") (rows published: \(share))", events: events,
                      seconds: Self.seconds(elapsed))
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
