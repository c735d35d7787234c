import Foundation
import Generated
import Logging
import Outbox
import Persistence
import PostgresNIO
import ServiceLifecycle

/// No-signal supervision: a panel silent for longer than its `signal_period_s` (no answer to the worker's polls:
/// `last_seen_at`, which the owning worker refreshes while the module answers) raises one `no_signal` alarm; the
/// first signal after it restores that alarm (`AlarmRestored`, a timeline line; the alarm stays for an operator to
/// close). A flapping link does not raise hundreds: while the silence's alarm is still open, losing the signal again
/// joins it (`reports` counts the losses) instead of raising another.
///
/// Every backend runs one, like `AlarmEscalator`: each pass claims the panels it changes `FOR UPDATE SKIP LOCKED` and
/// only those whose `no_signal_alarm_id` says the change is still due, and the panel, the alarm and its events commit
/// together. Crash at any step: before the commit nothing happened and the next pass does it; after, all is there.
/// When no worker owns a panel (all workers down), nobody refreshes `last_seen_at`: that is a silence too.
public struct SignalSupervisor: Service {
    let client: PostgresClient
    let repositories: Repositories
    let notifier: OutboxNotifier?
    let interval: Duration
    let logger: Logger
    let raiser: AlarmRaiser
    let history: AlarmHistory

    static let batch = 200

    public init(client: PostgresClient, repositories: Repositories, notifier: OutboxNotifier?, interval: Duration = .seconds(2), logger: Logger) {
        self.client = client
        self.repositories = repositories
        self.notifier = notifier
        self.interval = interval
        self.logger = logger
        raiser = AlarmRaiser(repositories: repositories)
        history = AlarmHistory(repositories: repositories)
    }

    public func run() async throws {
        await PeriodicPass.run(every: interval, logger: logger, failure: "signal supervision pass failed") {
            let pass = try await superviseDue()
            return pass.lost == Self.batch || pass.restored == Self.batch
        }
    }

    public struct Pass: Sendable, Equatable {
        /// Panels that went silent (a new alarm, or one more report on the open one).
        public var lost = 0
        public var restored = 0

        public init(lost: Int = 0, restored: Int = 0) {
            self.lost = lost
            self.restored = restored
        }
    }

    /// One pass at `asOf` (nil: the database's time, the clock `last_seen_at` is compared in). Tests pass a later
    /// `asOf` instead of waiting out a period.
    @discardableResult
    public func superviseDue(asOf: Date? = nil) async throws -> Pass {
        var pass = Pass()
        pass.lost = try await OutboxTransaction.run(on: client, notifier: notifier, logger: logger) { transaction in
            let silent = try await Self.claimSilent(asOf: asOf, on: transaction.connection, logger: logger)
            for panel in silent { try await lost(panel, in: transaction) }
            return silent.count
        }
        pass.restored = try await OutboxTransaction.run(on: client, notifier: notifier, logger: logger) { transaction in
            let signalling = try await Self.claimSignalling(asOf: asOf, on: transaction.connection, logger: logger)
            for panel in signalling { try await restored(panel, in: transaction) }
            return signalling.count
        }
        if pass.lost + pass.restored > 0 {
            logger.notice("panel signal supervision", metadata: ["lost": "\(pass.lost)", "restored": "\(pass.restored)"])
        }
        return pass
    }

    struct SilentPanel {
        var id: UUID
        var siteID: UUID
        var name: String
        var periodSeconds: Int
        var lastSeen: Date?
        var at: Date
    }

    private func lost(_ panel: SilentPanel, in transaction: OutboxTransaction) async throws {
        let connection = transaction.connection
        let since = panel.lastSeen.map { "last signal \(ISO8601DateFormatter().string(from: $0))" } ?? "never signalled"
        let alarmID: UUID
        if let open = try await Self.openNoSignalAlarm(panel: panel.id, on: connection, logger: logger),
           var alarm = try await repositories.alarms.find(id: open, on: connection) {
            // Hysteresis: the silence's alarm is still being handled; count this loss on it.
            alarm.reports += 1
            _ = try await repositories.alarms.update(id: alarm.id, set: [.reports(alarm.reports), .restoredAt(nil)], on: connection)
            try await history.record(.joined, alarm: alarm.id, text: "Signal lost again (\(since)); losses: \(alarm.reports)", at: panel.at, on: connection)
            try await transaction.enqueue(AlarmRepeated(alarmId: alarm.id, siteId: alarm.siteId, panelId: panel.id, reports: alarm.reports, at: panel.at))
            alarmID = alarm.id
        } else {
            alarmID = try await raiser.raise(
                .init(siteID: panel.siteID, panelID: panel.id, kind: .noSignal, priority: AlarmKind.noSignal.defaultPriority,
                      title: String("No signal - \(panel.name): silent for over \(Self.describe(seconds: panel.periodSeconds))".prefix(200))),
                correlation: .none, in: transaction).alarmID
        }
        _ = try await repositories.panels.update(id: panel.id, set: [.noSignalAlarmId(alarmID)], on: connection)
    }

    private func restored(_ panel: (id: UUID, alarm: UUID, siteID: UUID, lastSeen: Date), in transaction: OutboxTransaction) async throws {
        let connection = transaction.connection
        _ = try await repositories.panels.update(id: panel.id, set: [.noSignalAlarmId(nil)], on: connection)
        try await raiser.restore(alarm: panel.alarm, siteID: panel.siteID, panelID: panel.id, text: "Signal restored", at: panel.lastSeen,
                                 in: transaction)
    }

    /// "90 s", "5 min", "25 h".
    static func describe(seconds: Int) -> String {
        if seconds % 3600 == 0 { return "\(seconds / 3600) h" }
        if seconds % 60 == 0 { return "\(seconds / 60) min" }
        return "\(seconds) s"
    }

    /// Enabled panels silent past their period with no silence alarm recorded, locked. Hand SQL: a per-row interval
    /// and a `SKIP LOCKED` claim no repository method says.
    static func claimSilent(asOf: Date?, on connection: PostgresConnection, logger: Logger) async throws -> [SilentPanel] {
        let rows = try await connection.query("""
            SELECT id, site_id, name, signal_period_s, last_seen_at, coalesce(\(asOf), now())
            FROM panels
            WHERE enabled AND no_signal_alarm_id IS NULL
              AND coalesce(last_seen_at, created_at) <= coalesce(\(asOf), now()) - make_interval(secs => signal_period_s)
            ORDER BY id
            LIMIT \(unescaped: String(batch))
            FOR UPDATE SKIP LOCKED
            """, logger: logger)
        var panels: [SilentPanel] = []
        for try await (id, site, name, period, lastSeen, at) in rows.decode((UUID, UUID, String, Int, Date?, Date).self) {
            panels.append(SilentPanel(id: id, siteID: site, name: name, periodSeconds: period, lastSeen: lastSeen, at: at))
        }
        return panels
    }

    /// Panels with a silence alarm recorded that have signalled within their period again, locked.
    static func claimSignalling(asOf: Date?, on connection: PostgresConnection, logger: Logger) async throws
        -> [(id: UUID, alarm: UUID, siteID: UUID, lastSeen: Date)] {
        let rows = try await connection.query("""
            SELECT id, no_signal_alarm_id, site_id, last_seen_at
            FROM panels
            WHERE no_signal_alarm_id IS NOT NULL
              AND last_seen_at > coalesce(\(asOf), now()) - make_interval(secs => signal_period_s)
            ORDER BY id
            LIMIT \(unescaped: String(batch))
            FOR UPDATE SKIP LOCKED
            """, logger: logger)
        var panels: [(id: UUID, alarm: UUID, siteID: UUID, lastSeen: Date)] = []
        for try await (id, alarm, site, lastSeen) in rows.decode((UUID, UUID, UUID, Date).self) {
            panels.append((id, alarm, site, lastSeen))
        }
        return panels
    }

    /// The newest open no_signal alarm of the panel, if any.
    static func openNoSignalAlarm(panel: UUID, on connection: PostgresConnection, logger: Logger) async throws -> UUID? {
        let rows = try await connection.query("""
            SELECT id FROM alarms WHERE panel_id = \(panel) AND kind = 'no_signal' AND state <> 'closed' ORDER BY raised_at DESC LIMIT 1
            """, logger: logger)
        for try await id in rows.decode(UUID.self) { return id }
        return nil
    }
}
