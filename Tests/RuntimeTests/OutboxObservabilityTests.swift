import Database
import Foundation
import DevStack
import Logging
import Messaging
import Observability
import Outbox
import PostgresNIO
import Prometheus
import Testing
import TestSupport

/// The relay seen from outside (its metrics and readiness through `ObservabilityServer`) and its retention
/// pruning, on a real PostgreSQL 15 and RabbitMQ 3.
@Suite(.postgres, .rabbitmq, .serialized, .integration, .tags(.integration)) struct OutboxObservabilityTests {
    let logger = Logger(label: "test.outbox-observability")
    /// The outbox suite's fixture and helpers (a migrated database per test, SQL shortcuts).
    let outbox = OutboxTests()

    func readinessChecks(_ database: DatabaseConfiguration, _ publisher: Publisher) -> [ReadinessCheck] {
        let (configuration, logger) = (database.connectionConfiguration, self.logger)
        return [
            ReadinessCheck("postgresql") {
                let connection = try await PostgresConnection.connect(configuration: configuration, id: 90, logger: logger)
                defer { Task { try? await connection.close() } }
                try await connection.query("SELECT 1", logger: logger)
            },
            ReadinessCheck("rabbitmq") { try await publisher.checkConnection() },
        ]
    }

    /// The value of one sample line (`name{labels} value`) in a /metrics body.
    func sample(_ body: String, _ series: String) -> Double? {
        body.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    /// Waits (bounded) until `condition` holds; the assertions after it say what was expected.
    func eventually(within limit: Duration = .seconds(60), _ condition: () async throws -> Bool) async rethrows {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Rows published `age` ago (so retention applies to them) and a consumer's old and new message ids.
    func insertAged(_ database: DatabaseConfiguration, published: [String], unpublishedAge: [String]) async throws {
        for age in published {
            try await outbox.execute(database, """
                INSERT INTO outbox (aggregate_type, aggregate_id, event_name, event_version, exchange, routing_key, payload, created_at, published_at)
                VALUES ('Panel', gen_random_uuid(), 'ZoneStateChanged', 1, 'events', 'panel.zone.changed', '{"aged": true}',
                        now() - interval '\(age)', now() - interval '\(age)')
                """)
        }
        for age in unpublishedAge {
            try await outbox.execute(database, """
                INSERT INTO outbox (aggregate_type, aggregate_id, event_name, event_version, exchange, routing_key, payload, created_at)
                VALUES ('Panel', gen_random_uuid(), 'ZoneStateChanged', 1, 'events', 'panel.zone.changed', '{"aged": true}',
                        now() - interval '\(age)')
                """)
        }
    }

    @Test func metricsShowWhatTheRelayPublishedAndPrunedAndReadyzPasses() async throws {
        let fixture = try await outbox.fixture()
        let rabbit = try #require(TestRabbitMQ.current)
        try await outbox.declareQueue(fixture)
        try await insertAged(fixture.database, published: Array(repeating: "8 days", count: 7), unpublishedAge: [])
        try await outbox.insertEvents(fixture.database, count: 1200, aggregates: 12)
        let registry = PrometheusCollectorRegistry()
        let publisher = Publisher(configuration: rabbit.configuration, topology: fixture.topology, logger: logger)
        let relay = OutboxRelay(
            configuration: .init(instance: "relay-metrics", batchSize: 250, pollInterval: .milliseconds(200), heartbeatInterval: .seconds(1),
                                 retention: .init(interval: .seconds(1))),
            database: fixture.database.connectionConfiguration, publisher: publisher,
            metrics: OutboxRelayMetrics(registry: registry), logger: logger)
        let server = ObservabilityServer(configuration: .init(host: "127.0.0.1", port: 0), registry: registry,
                                         readinessChecks: readinessChecks(fixture.database, publisher), logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await relay.run() }
            group.addTask { try await server.run() }
            let port = try await server.boundPort.value()
            await eventually { relay.metrics.published == 1200 && relay.metrics.activeInstances == 1 && relay.metrics.prunedOutboxRows == 7 }
            let metrics = try await HTTPGet.get(port: port, path: "/metrics")
            #expect(metrics.status == 200)
            #expect(sample(metrics.body, "outbox_published_total") == 1200)
            #expect(sample(metrics.body, "outbox_publish_failures_total") == 0)
            #expect(sample(metrics.body, "outbox_relay_active_instances") == 1)
            #expect(sample(metrics.body, "outbox_pruned_rows_total{table=\"outbox\"}") == 7)
            #expect(sample(metrics.body, "outbox_pruned_rows_total{table=\"processed_messages\"}") == 0)
            // At least 1200 / 250 batches, each in the histogram.
            let batches = try #require(sample(metrics.body, "outbox_batch_duration_seconds_count"))
            #expect(batches == Double(relay.metrics.batches) && batches >= 5)
            #expect(metrics.body.contains("# TYPE outbox_batch_duration_seconds histogram"))
            #expect(metrics.body.contains("# TYPE outbox_pending_rows gauge"))
            let ready = try await HTTPGet.get(port: port, path: "/readyz")
            #expect(ready.status == 200)
            group.cancelAll()
        }
        #expect(try await outbox.number(fixture.database, "SELECT count(*)::int FROM outbox") == 1200)
    }

    @Test func aRelayThatCannotReachTheBrokerIsNotReadyAndShowsTheBacklog() async throws {
        let fixture = try await outbox.fixture()
        try await outbox.insertEvents(fixture.database, count: 300, aggregates: 3)
        // Nothing listens on this port: every publish fails, every row stays pending.
        let rabbit = try #require(TestRabbitMQ.current)
        var unreachable = rabbit.configuration
        unreachable.port = try FreePort.find()
        let registry = PrometheusCollectorRegistry()
        let publisher = Publisher(configuration: unreachable, topology: fixture.topology, logger: logger)
        let relay = OutboxRelay(
            configuration: .init(instance: "relay-cut-off", batchSize: 100, pollInterval: .milliseconds(200), heartbeatInterval: .seconds(1)),
            database: fixture.database.connectionConfiguration, publisher: publisher,
            metrics: OutboxRelayMetrics(registry: registry), logger: logger)
        let server = ObservabilityServer(configuration: .init(host: "127.0.0.1", port: 0), registry: registry,
                                         readinessChecks: readinessChecks(fixture.database, publisher), logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await relay.run() }
            group.addTask { try await server.run() }
            let port = try await server.boundPort.value()
            await eventually { relay.metrics.pendingRows == 300 && relay.metrics.failedBatches > 0 }
            let metrics = try await HTTPGet.get(port: port, path: "/metrics")
            #expect(sample(metrics.body, "outbox_pending_rows") == 300)
            #expect(sample(metrics.body, "outbox_published_total") == 0)
            #expect((sample(metrics.body, "outbox_publish_failures_total") ?? 0) >= 1)
            let readiness = try await HTTPGet.get(port: port, path: "/readyz")
            #expect(readiness.status == 503)
            let report = try JSONDecoder().decode(ObservabilityServer.Readiness.self, from: Data(readiness.body.utf8))
            #expect(report.failing == ["rabbitmq"])
            #expect(try await HTTPGet.get(port: port, path: "/healthz").status == 200)
            group.cancelAll()
        }
        #expect(try await outbox.number(fixture.database, "SELECT count(*)::int FROM outbox WHERE published_at IS NULL") == 300)
    }

    @Test func pruningRemovesOldPublishedRowsOnlyAndOldProcessedMessageIds() async throws {
        let fixture = try await outbox.fixture()
        let database = fixture.database
        try await insertAged(database, published: Array(repeating: "8 days", count: 5) + ["7 days 1 hour", "6 days 23 hours", "1 day", "1 minute"],
                             unpublishedAge: ["60 days", "8 days", "1 hour"])
        try await outbox.execute(database, """
            INSERT INTO processed_messages (consumer, message_id, processed_at)
            SELECT 'c' || (i % 2), gen_random_uuid(), now() - CASE WHEN i < 6 THEN interval '31 days' ELSE interval '29 days' END
            FROM generate_series(0, 8) AS i
            """)
        let metrics = OutboxRelayMetrics()
        // Batches of 2: several rounds, as a large backlog of expired rows would take.
        let pruner = OutboxPruner(configuration: .init(batchSize: 2), metrics: metrics, logger: logger)
        let connection = try await PostgresConnection.connect(configuration: database.connectionConfiguration, id: 9, logger: logger)
        let first = try await pruner.pruneOnce(on: connection)
        let second = try await pruner.pruneOnce(on: connection)
        try await connection.close()
        #expect(first == OutboxPruner.Pruned(outbox: 6, processedMessages: 6))
        #expect(second == OutboxPruner.Pruned(outbox: 0, processedMessages: 0))
        // Unpublished rows stay whatever their age; published rows younger than 7 days stay.
        #expect(try await outbox.number(database, "SELECT count(*)::int FROM outbox WHERE published_at IS NULL") == 3)
        #expect(try await outbox.number(database, "SELECT count(*)::int FROM outbox WHERE published_at IS NOT NULL") == 3)
        #expect(try await outbox.number(database, "SELECT count(*)::int FROM outbox WHERE published_at < now() - interval '7 days'") == 0)
        #expect(try await outbox.number(database, "SELECT count(*)::int FROM processed_messages") == 3)
        #expect(try await outbox.number(database, "SELECT count(*)::int FROM processed_messages WHERE processed_at < now() - interval '30 days'") == 0)
        #expect(metrics.prunedOutboxRows == 6 && metrics.prunedProcessedMessages == 6)
        let text = metrics.registry.emitToString()
        #expect(sample(text, "outbox_pruned_rows_total{table=\"outbox\"}") == 6)
        #expect(sample(text, "outbox_pruned_rows_total{table=\"processed_messages\"}") == 6)
    }
}
