import Alarms
import Database
import Foundation
import Generated
import Logging
import Outbox
import Persistence
import PostgresNIO
import TestSupport
import Testing

/// `AlarmRaiser`'s grouping and test mode against a real PostgreSQL: a storm of one detector is one alarm with a
/// count; a site or panel on test records its alarms closed, off the stack. The event-log records are stored rows,
/// as the worker stores them before raising (the worker's own tests raise them from a simulated panel).
@Suite(.postgres, .serialized, .integration, .tags(.integration)) struct AlarmRaiserTests {
    let logger = Logger(label: "alarm-raiser-tests")

    struct Station: Sendable {
        var client: PostgresClient
        var repositories: Repositories
        var site: Site
        var panel: Panel
        var logger: Logger

        /// A stored event-log record of `zone` and the alarm it raises, as the worker's transaction does.
        func record(zone: Int, kind: AlarmKind = .burglary) async throws -> AlarmRaiser.Outcome {
            try await OutboxTransaction.run(on: client, notifier: nil, logger: logger) { transaction in
                let event = try await repositories.panelEvents.insert(PanelEvent(
                    panelId: panel.id, source: .eventLog, logIndex: Int.random(in: 0..<0xFFFFFF), occurredAt: Date(), eventCode: 130,
                    partitionNumber: 1, sourceNumber: zone, description: "zone alarm", fencingToken: 0), on: transaction.connection)
                return try await AlarmRaiser(repositories: repositories).raise(
                    .init(siteID: site.id, panelID: panel.id, panelEventID: event.id, kind: kind, priority: kind.defaultPriority,
                          title: "Burglary - Zone \(zone)", zone: zone, partition: 1),
                    correlation: .eventLogRecord, in: transaction)
            }
        }

        func count(_ sql: String) async throws -> Int {
            try await client.query(PostgresQuery(unsafeSQL: sql), logger: logger).collect().first?.decode(Int.self) ?? -1
        }
    }

    func withStation(_ body: @Sendable (Station) async throws -> Void) async throws {
        let postgres = try #require(TestPostgres.current)
        let database = try await postgres.migratedDatabase(logger: logger)
        let logger = logger
        try await TestPostgres.withClient(database, logger: logger) { client in
            let repositories = Repositories(context: DatabaseContext(client: client, secrets: try SecretBox.random(), logger: logger))
            let site = try await repositories.sites.insert(Site(code: "S1", name: "Warehouse"))
            let panel = try await repositories.panels.insert(Panel(siteId: site.id, name: "Main", host: "10.0.0.2"))
            try await body(Station(client: client, repositories: repositories, site: site, panel: panel, logger: logger))
        }
    }

    @Test func aStormOfOneDetectorIsOneAlarmWithACount() async throws {
        try await withStation { station in
            let first = try await station.record(zone: 3)
            guard case .raised(let alarm) = first else { Issue.record("\(first)"); return }
            for _ in 0..<4 { #expect(try await station.record(zone: 3) == .joined(alarmID: alarm)) }
            // Another zone is another alarm; a fire on zone 3 is another class.
            #expect(try await station.record(zone: 4) != .joined(alarmID: alarm))
            #expect(try await station.record(zone: 3, kind: .fire) != .joined(alarmID: alarm))
            #expect(try await station.repositories.alarms.find(id: alarm)?.reports == 5)
            #expect(try await station.count("SELECT count(*)::int FROM outbox WHERE event_name = 'AlarmRepeated'") == 4)
            #expect(try await station.count("SELECT max((payload->>'reports')::int) FROM outbox WHERE event_name = 'AlarmRepeated'") == 5)
            #expect(try await station.count("SELECT count(*)::int FROM alarms") == 3)
            // Closed: the next repeat starts a new alarm.
            _ = try await station.repositories.alarms.update(id: alarm, set: [.state(.closed), .closedAt(Date())])
            #expect(try await station.record(zone: 3) != .joined(alarmID: alarm))
            #expect(try await station.count("SELECT count(*)::int FROM alarms") == 4)
        }
    }

    @Test func alarmsOfASiteOrPanelOnTestAreRecordedClosedAndNotStacked() async throws {
        try await withStation { station in
            _ = try await station.repositories.sites.update(id: station.site.id, set: [.onTestUntil(Date().addingTimeInterval(3600))])
            guard case .raised(let onTest) = try await station.record(zone: 1) else { Issue.record("not raised"); return }
            let stored = try #require(try await station.repositories.alarms.find(id: onTest))
            #expect(stored.onTest && stored.state == .closed && stored.closedAt == stored.raisedAt)
            #expect(try await station.count("SELECT count(*)::int FROM outbox WHERE event_name = 'AlarmRaised' AND payload->>'on_test' = 'true'") == 1)
            #expect(try await AlarmEscalator(client: station.client, repositories: station.repositories, notifier: nil, logger: station.logger)
                .escalateDue(asOf: Date().addingTimeInterval(86400)) == 0, "never escalated")

            // The test ended (its time passed): stacked again. Then the panel alone on test.
            _ = try await station.repositories.sites.update(id: station.site.id, set: [.onTestUntil(Date().addingTimeInterval(-1))])
            guard case .raised(let stacked) = try await station.record(zone: 2) else { Issue.record("not raised"); return }
            #expect(try await station.repositories.alarms.find(id: stacked)?.state == .new)
            _ = try await station.repositories.panels.update(id: station.panel.id, set: [.onTestUntil(Date().addingTimeInterval(600))])
            guard case .raised(let panelTest) = try await station.record(zone: 5) else { Issue.record("not raised"); return }
            #expect(try await station.repositories.alarms.find(id: panelTest)?.onTest == true)
        }
    }
}
