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

/// No-signal supervision against a real PostgreSQL with a controlled clock (`superviseDue(asOf:)`): expiry, restore,
/// a flapping link, a closed silence, several supervisors at once. The panel's signal (`last_seen_at`) is set as the
/// owning worker's heartbeat sets it; WorkerTests drive the same from a real worker and a panel that goes silent.
@Suite(.postgres, .serialized, .integration, .tags(.integration)) struct SignalSupervisorTests {
    let logger = Logger(label: "signal-supervisor-tests")

    struct Station: Sendable {
        var client: PostgresClient
        var repositories: Repositories
        var panel: Panel
        var logger: Logger

        var supervisor: SignalSupervisor { SignalSupervisor(client: client, repositories: repositories, notifier: nil, logger: logger) }

        /// What the owning worker's heartbeat does while the module answers.
        func signal(at time: Date) async throws {
            _ = try await repositories.panels.update(id: panel.id, set: [.lastSeenAt(time)])
        }

        func noSignalAlarms() async throws -> [Alarm] {
            try await repositories.alarms.list(filter: .init(kind: .noSignal, panelId: panel.id), sort: .raisedAt, limit: 50).items
        }

        func history(_ alarm: UUID) async throws -> [String] {
            try await repositories.alarmHistoryEntries.list(filter: .init(alarmId: alarm), sort: .at, limit: 50).items
                .map { "\($0.kind.rawValue)" }
        }
    }

    func withStation(period: Int = 120, _ body: @Sendable (Station) async throws -> Void) async throws {
        let postgres = try #require(TestPostgres.current)
        let database = try await postgres.migratedDatabase(logger: logger)
        let logger = logger
        try await TestPostgres.withClient(database, logger: logger) { client in
            let repositories = Repositories(context: DatabaseContext(client: client, secrets: try SecretBox.random(), logger: logger))
            let site = try await repositories.sites.insert(Site(code: "S1", name: "Warehouse"))
            let panel = try await repositories.panels.insert(Panel(siteId: site.id, name: "Main hall", host: "10.0.0.2", signalPeriodS: period))
            try await body(Station(client: client, repositories: repositories, panel: panel, logger: logger))
        }
    }

    @Test func silenceBeyondThePeriodRaisesOneAlarmAndTheFirstSignalRestoresIt() async throws {
        try await withStation { station in
            let start = Date(timeIntervalSince1970: (Date().timeIntervalSince1970).rounded(.down))
            try await station.signal(at: start)
            let supervisor = station.supervisor
            #expect(try await supervisor.superviseDue(asOf: start.addingTimeInterval(119)) == .init(lost: 0, restored: 0))
            #expect(try await supervisor.superviseDue(asOf: start.addingTimeInterval(121)) == .init(lost: 1, restored: 0))
            #expect(try await supervisor.superviseDue(asOf: start.addingTimeInterval(600)) == .init(lost: 0, restored: 0), "one alarm per silence")
            let alarms = try await station.noSignalAlarms()
            #expect(alarms.count == 1)
            let alarm = try #require(alarms.first)
            #expect(alarm.priority == .trouble && alarm.title == "No signal - Main hall: silent for over 2 min")
            #expect(try await station.repositories.panels.find(id: station.panel.id)?.noSignalAlarmId == alarm.id)

            // The panel answers again: restored, the alarm stays open for an operator.
            try await station.signal(at: start.addingTimeInterval(650))
            #expect(try await supervisor.superviseDue(asOf: start.addingTimeInterval(651)) == .init(lost: 0, restored: 1))
            #expect(try await station.repositories.panels.find(id: station.panel.id)?.noSignalAlarmId == nil)
            let restored = try await station.repositories.alarms.find(id: alarm.id)
            #expect(restored?.state == .new && restored?.restoredAt == start.addingTimeInterval(650))
            #expect(try await station.history(alarm.id) == ["raised", "restored"])
            let restoredEvents = try await station.client.query(
                "SELECT count(*)::int FROM outbox WHERE event_name = 'AlarmRestored'", logger: station.logger).collect().first?.decode(Int.self)
            #expect(restoredEvents == 1)
        }
    }

    /// A link that comes and goes: while the silence's alarm is open, every loss is counted on it; after an operator
    /// closed it, the next silence is a new alarm.
    @Test func aFlappingLinkIsOneAlarmWithACountUntilItIsClosed() async throws {
        try await withStation(period: 30) { station in
            let start = Date(timeIntervalSince1970: (Date().timeIntervalSince1970).rounded(.down))
            let supervisor = station.supervisor
            var now = start
            for _ in 0..<5 {
                try await station.signal(at: now)
                now = now.addingTimeInterval(31)
                #expect(try await supervisor.superviseDue(asOf: now).lost == 1)
                now = now.addingTimeInterval(1)
                try await station.signal(at: now)
                #expect(try await supervisor.superviseDue(asOf: now.addingTimeInterval(1)).restored == 1)
            }
            let alarms = try await station.noSignalAlarms()
            #expect(alarms.count == 1)
            #expect(alarms.first?.reports == 5)
            #expect(try await station.history(try #require(alarms.first).id)
                == ["raised", "restored"] + Array(repeating: ["joined", "restored"], count: 4).flatMap { $0 })

            _ = try await station.repositories.alarms.update(id: try #require(alarms.first).id, set: [.state(.closed), .closedAt(now)])
            now = now.addingTimeInterval(40)
            #expect(try await supervisor.superviseDue(asOf: now).lost == 1)
            #expect(try await station.noSignalAlarms().count == 2)
        }
    }

    @Test func aDisabledPanelIsNotSupervisedAndConcurrentSupervisorsRaiseOnce() async throws {
        try await withStation(period: 10) { station in
            let start = Date(timeIntervalSince1970: (Date().timeIntervalSince1970).rounded(.down))
            try await station.signal(at: start)
            _ = try await station.repositories.panels.update(id: station.panel.id, set: [.enabled(false)])
            #expect(try await station.supervisor.superviseDue(asOf: start.addingTimeInterval(3600)).lost == 0)
            _ = try await station.repositories.panels.update(id: station.panel.id, set: [.enabled(true)])
            let asOf = start.addingTimeInterval(3600)
            let client = station.client
            let repositories = station.repositories
            let logger = station.logger
            let lost = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await SignalSupervisor(client: client, repositories: repositories, notifier: nil, logger: logger).superviseDue(asOf: asOf).lost
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(lost == 1)
            #expect(try await station.noSignalAlarms().count == 1)
        }
    }
}
