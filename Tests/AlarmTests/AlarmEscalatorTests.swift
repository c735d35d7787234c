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

/// The alarm stack's escalation against a real PostgreSQL, with the alarms raised through `AlarmRaiser` (the path the
/// worker and the SMS consumer take) and the clock controlled by `escalateDue(asOf:)` instead of waiting for a class's
/// target. What the test sets by hand: the acknowledgement of one alarm (the API's transition, tested in BackendTests).
@Suite(.postgres, .serialized, .integration, .tags(.integration)) struct AlarmEscalatorTests {
    let logger = Logger(label: "alarm-escalator-tests")

    /// A migrated database with one site and panel, a running client and the repositories over it.
    func withStation(_ body: @Sendable (PostgresClient, Repositories, Site, Panel) async throws -> Void) async throws {
        let postgres = try #require(TestPostgres.current)
        let database = try await postgres.migratedDatabase(logger: logger)
        let logger = logger
        try await TestPostgres.withClient(database, logger: logger) { client in
            let repositories = Repositories(context: DatabaseContext(client: client, secrets: try SecretBox.random(), logger: logger))
            let site = try await repositories.sites.insert(Site(code: "S1", name: "Warehouse"))
            let panel = try await repositories.panels.insert(Panel(siteId: site.id, name: "Main", host: "10.0.0.2"))
            try await body(client, repositories, site, panel)
        }
    }

    func raise(_ kind: AlarmKind, zone: Int, client: PostgresClient, repositories: Repositories, panel: Panel) async throws -> Alarm {
        let outcome = try await OutboxTransaction.run(on: client, notifier: nil, logger: logger) { transaction in
            try await AlarmRaiser(repositories: repositories).raise(
                .init(siteID: panel.siteId, panelID: panel.id, kind: kind, priority: kind.defaultPriority, title: "\(kind) zone \(zone)", zone: zone),
                correlation: .none, in: transaction)
        }
        return try #require(try await repositories.alarms.find(id: outcome.alarmID))
    }

    func escalatedEvents(_ client: PostgresClient) async throws -> [String] {
        var events: [String] = []
        for try await (title, priority) in try await client.query("""
            SELECT payload->>'title', payload->>'priority' FROM outbox WHERE event_name = 'AlarmEscalated' ORDER BY payload->>'title'
            """, logger: logger).decode((String, String).self) {
            events.append("\(title) \(priority)")
        }
        return events
    }

    /// Each class escalates after its own target (fire 30 s, burglary 60 s), once; an acknowledged alarm never does.
    @Test func anAlarmEscalatesOnceAfterItsClassTargetUnlessAcknowledged() async throws {
        try await withStation { client, repositories, _, panel in
            let fire = try await raise(.fire, zone: 1, client: client, repositories: repositories, panel: panel)
            let burglary = try await raise(.burglary, zone: 2, client: client, repositories: repositories, panel: panel)
            let handled = try await raise(.burglary, zone: 3, client: client, repositories: repositories, panel: panel)
            _ = try await repositories.alarms.update(id: handled.id, set: [.state(.acknowledged), .acknowledgedAt(handled.raisedAt)])
            #expect(fire.priority == .fire && burglary.priority == .burglary)
            let escalator = AlarmEscalator(client: client, repositories: repositories, notifier: nil, logger: logger)
            let start = max(fire.raisedAt, burglary.raisedAt, handled.raisedAt)

            #expect(try await escalator.escalateDue(asOf: start.addingTimeInterval(29)) == 0)
            #expect(try await escalator.escalateDue(asOf: start.addingTimeInterval(31)) == 1)
            #expect(try await escalatedEvents(client) == ["fire zone 1 fire"])
            #expect(try await escalator.escalateDue(asOf: start.addingTimeInterval(59)) == 0)
            #expect(try await escalator.escalateDue(asOf: start.addingTimeInterval(61)) == 1)
            #expect(try await escalator.escalateDue(asOf: start.addingTimeInterval(3600)) == 0)
            #expect(try await escalatedEvents(client) == ["burglary zone 2 burglary", "fire zone 1 fire"])

            let stored = try #require(try await repositories.alarms.find(id: fire.id))
            #expect(stored.escalatedAt == start.addingTimeInterval(31))
            #expect(try await repositories.alarms.find(id: handled.id)?.escalatedAt == nil)
        }
    }

    /// Every backend runs an escalator: four passes at once over 60 due alarms escalate each exactly once.
    @Test func concurrentEscalatorsEscalateEachAlarmOnce() async throws {
        try await withStation { client, repositories, _, panel in
            var latest = Date.distantPast
            for zone in 1...60 {
                latest = max(latest, try await raise(zone % 2 == 0 ? .tamper : .fire, zone: zone, client: client, repositories: repositories, panel: panel).raisedAt)
            }
            let asOf = latest.addingTimeInterval(3600)
            let logger = logger
            let counts = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await AlarmEscalator(client: client, repositories: repositories, notifier: nil, logger: logger).escalateDue(asOf: asOf)
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(counts == 60)
            #expect(try await escalatedEvents(client).count == 60)
            #expect(try await escalatedEvents(client).filter { $0.hasSuffix(" tamper") }.count == 30)
        }
    }
}
