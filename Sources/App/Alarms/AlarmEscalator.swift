import Foundation
import Generated
import Logging
import Outbox
import Persistence
import PostgresNIO
import ServiceLifecycle

/// Escalates every alarm that has waited longer than its class's `acknowledge_within` (the schema's `alarm_stack`)
/// without being acknowledged: sets `escalated_at` and enqueues `AlarmEscalated` in one transaction, so consoles
/// mark it and alert supervisors.
///
/// Every backend runs one. Two at once never escalate an alarm twice: each claims the due rows `FOR UPDATE SKIP
/// LOCKED` and only rows whose `escalated_at` is still empty, and the claim and its event commit together. Crash
/// at any step: before the commit nothing happened and the next pass (of this backend or another) escalates it;
/// after it, the row and its event are both there and the relay publishes the event.
public struct AlarmEscalator: Service {
    let client: PostgresClient
    let repositories: Repositories
    let notifier: OutboxNotifier?
    let interval: Duration
    let logger: Logger
    let escalated: (@Sendable (Int) -> Void)?
    let history: AlarmHistory

    /// At most this many alarms per pass; the next pass takes the rest at once.
    static let batch = 200

    public init(client: PostgresClient, repositories: Repositories, notifier: OutboxNotifier?, interval: Duration = .seconds(1),
                logger: Logger, escalated: (@Sendable (Int) -> Void)? = nil) {
        self.client = client
        self.repositories = repositories
        self.notifier = notifier
        self.interval = interval
        self.logger = logger
        self.escalated = escalated
        history = AlarmHistory(repositories: repositories)
    }

    public func run() async throws {
        await PeriodicPass.run(every: interval, logger: logger, failure: "alarm escalation pass failed") {
            try await escalateDue() == Self.batch
        }
    }

    /// One pass: escalates the alarms due at `asOf` (nil: the database's time, the clock `raised_at` is written in)
    /// and returns how many. Tests pass a later `asOf` instead of waiting for a class's target.
    @discardableResult
    public func escalateDue(asOf: Date? = nil) async throws -> Int {
        let count = try await OutboxTransaction.run(on: client, notifier: notifier, logger: logger) { transaction in
            let due = try await Self.claimDue(asOf: asOf, on: transaction.connection, logger: logger)
            for alarm in due {
                _ = try await repositories.alarms.update(id: alarm.id, set: [.escalatedAt(alarm.at)], on: transaction.connection)
                try await history.record(.escalated, alarm: alarm.id,
                                         text: "Not acknowledged within \(alarm.priority.acknowledgeWithin.components.seconds) s (\(alarm.priority.rawValue))",
                                         at: alarm.at, on: transaction.connection)
                try await transaction.enqueue(AlarmEscalated(
                    alarmId: alarm.id, siteId: alarm.siteID, panelId: alarm.panelID, priority: alarm.priority, title: alarm.title,
                    raisedAt: alarm.raisedAt, at: alarm.at))
            }
            return due.count
        }
        if count > 0 {
            logger.notice("alarms escalated: not acknowledged within their class's target", metadata: ["count": "\(count)"])
            escalated?(count)
        }
        return count
    }

    struct DueAlarm {
        var id: UUID
        var siteID: UUID
        var panelID: UUID?
        var priority: AlarmPriority
        var title: String
        var raisedAt: Date
        var at: Date
    }

    /// The due alarms, locked for this transaction. Hand SQL: the target is per class (a CASE over the generated
    /// targets) and the claim is a `SKIP LOCKED` compare-and-set no repository method says.
    static func claimDue(asOf: Date?, on connection: PostgresConnection, logger: Logger) async throws -> [DueAlarm] {
        let targets = AlarmPriority.allCases.map { priority in
            "WHEN '\(priority.rawValue)' THEN \(priority.acknowledgeWithin.components.seconds)"
        }.joined(separator: " ")
        let query: PostgresQuery = """
            SELECT id, site_id, panel_id, priority, title, raised_at, coalesce(\(asOf), now())
            FROM alarms
            WHERE state = 'new' AND escalated_at IS NULL
              AND raised_at <= coalesce(\(asOf), now()) - make_interval(secs => CASE priority \(unescaped: targets) END)
            ORDER BY raised_at, id
            LIMIT \(unescaped: String(batch))
            FOR UPDATE SKIP LOCKED
            """
        var due: [DueAlarm] = []
        for try await (id, site, panel, priority, title, raisedAt, at) in try await connection.query(query, logger: logger)
            .decode((UUID, UUID, UUID?, String, String, Date, Date).self) {
            // A class this build does not know (a newer schema's) has no target here (the CASE gives NULL, so it is not
            // selected) and is left to the backends that know it.
            guard let priority = AlarmPriority(rawValue: priority) else { continue }
            due.append(DueAlarm(id: id, siteID: site, panelID: panel, priority: priority, title: title, raisedAt: raisedAt, at: at))
        }
        return due
    }
}
