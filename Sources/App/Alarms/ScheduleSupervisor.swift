import Foundation
import Generated
import Logging
import Outbox
import Persistence
import PostgresNIO
import ServiceLifecycle

/// Open/close supervision of the partitions that have a schedule (`ScheduleWindow`s, with the site's and the
/// partition's `ScheduleException`s, in the site's time zone: `OpenCloseSchedule`). While a partition is disarmed:
/// - disarmed outside every window: one `opening_out_of_hours` alarm;
/// - disarmed within a window and still disarmed when the window has ended plus the site's `close_grace_minutes`:
///   one `late_to_close` alarm.
/// One alarm per disarmed spell (`partitions.schedule_alarm_id`); arming the partition ends the spell and restores
/// the alarm (`AlarmRestored`), which stays for an operator to close. When the partition was disarmed is the
/// worker's `disarmed_at`.
///
/// Every backend runs one. A pass reads the candidates without locks, decides in Swift, then claims each due
/// partition `FOR UPDATE SKIP LOCKED` and re-checks that it is still as read (disarmed since the same moment, no
/// spell alarm) before raising, in the alarm's transaction: two supervisors never raise twice, and a partition
/// armed meanwhile raises nothing. Crash before a commit: nothing happened, the next pass decides again.
public struct ScheduleSupervisor: Service {
    let client: PostgresClient
    let repositories: Repositories
    let notifier: OutboxNotifier?
    let interval: Duration
    let logger: Logger
    let raiser: AlarmRaiser

    public init(client: PostgresClient, repositories: Repositories, notifier: OutboxNotifier?, interval: Duration = .seconds(15), logger: Logger) {
        self.client = client
        self.repositories = repositories
        self.notifier = notifier
        self.interval = interval
        self.logger = logger
        raiser = AlarmRaiser(repositories: repositories)
    }

    public func run() async throws {
        await PeriodicPass.run(every: interval, logger: logger, failure: "schedule supervision pass failed") {
            try await superviseDue()
            return false
        }
    }

    public struct Pass: Sendable, Equatable {
        public var outOfHours = 0
        public var lateToClose = 0
        public var restored = 0

        public init(outOfHours: Int = 0, lateToClose: Int = 0, restored: Int = 0) {
            self.outOfHours = outOfHours
            self.lateToClose = lateToClose
            self.restored = restored
        }
    }

    /// What a disarmed partition's schedule says at an instant.
    public enum Verdict: Sendable, Equatable {
        case fine
        case outOfHours
        case lateToClose(windowEnded: Date)
    }

    /// The rule, pure: `disarmedAt` (nil: not known, taken as `now`) against the schedule at `now`.
    public static func verdict(schedule: OpenCloseSchedule, disarmedAt: Date?, now: Date, grace: Duration) -> Verdict {
        if schedule.isOpen(at: now) { return .fine }
        let since = min(disarmedAt ?? now, now)
        guard let window = schedule.window(containing: since) else { return .outOfHours }
        let graceSeconds = TimeInterval(grace.components.seconds)
        return now >= window.end.addingTimeInterval(graceSeconds) ? .lateToClose(windowEnded: window.end) : .fine
    }

    /// One pass at `asOf` (nil: the database's time). Tests pass the instant they want judged.
    @discardableResult
    public func superviseDue(asOf: Date? = nil) async throws -> Pass {
        var pass = Pass()
        let now: Date
        if let asOf {
            now = asOf
        } else {
            now = try await client.withConnection { try await AlarmCorrelation.transactionTime(on: $0, logger: logger) }
        }
        let candidates = try await Self.candidates(client, logger: logger)
        guard !candidates.isEmpty else { return pass }
        let windows = Dictionary(grouping: try await repositories.scheduleWindows.all(), by: \.partitionId)
        let exceptions = try await repositories.scheduleExceptions.all()
        for candidate in candidates {
            if candidate.armed {
                if try await restore(candidate, at: now) { pass.restored += 1 }
                continue
            }
            let schedule = OpenCloseSchedule(
                timeZone: TimeZone(identifier: candidate.timeZone) ?? Self.fallbackZone(candidate, logger: logger),
                weekly: (windows[candidate.id] ?? []).compactMap { window in
                    OpenCloseSchedule.Hours(opens: window.opens, closes: window.closes).map { .init(weekday: window.weekday, hours: $0) }
                },
                // The partition's own exceptions take precedence over the site's.
                exceptions: (exceptions.filter { $0.partitionId == candidate.id } + exceptions.filter { $0.partitionId == nil && $0.siteId == candidate.siteID })
                    .map { exception in
                        OpenCloseSchedule.Exception(
                            startsOn: .init(storedDate: exception.startsOn), endsOn: .init(storedDate: exception.endsOn),
                            hours: exception.opens.flatMap { opens in exception.closes.flatMap { OpenCloseSchedule.Hours(opens: opens, closes: $0) } })
                    })
            let verdict = Self.verdict(schedule: schedule, disarmedAt: candidate.disarmedAt, now: now, grace: .seconds(candidate.graceMinutes * 60))
            switch verdict {
            case .fine: continue
            case .outOfHours:
                if try await raise(.openingOutOfHours, for: candidate, at: now, detail: "disarmed \(Self.local(candidate.disarmedAt ?? now, schedule)) outside its hours") {
                    pass.outOfHours += 1
                }
            case .lateToClose(let ended):
                if try await raise(.lateToClose, for: candidate, at: now,
                                   detail: "still disarmed \(candidate.graceMinutes) min after its hours ended at \(Self.local(ended, schedule))") {
                    pass.lateToClose += 1
                }
            }
        }
        if pass != Pass() {
            logger.notice("open/close supervision", metadata: ["out_of_hours": "\(pass.outOfHours)", "late_to_close": "\(pass.lateToClose)",
                                                               "restored": "\(pass.restored)"])
        }
        return pass
    }

    struct Candidate {
        var id: UUID
        var panelID: UUID
        var siteID: UUID
        var number: Int
        var description: String?
        var armed: Bool
        var disarmedAt: Date?
        var alarmID: UUID?
        var timeZone: String
        var graceMinutes: Int
    }

    /// Disarmed scheduled partitions without a spell alarm, and armed ones with one.
    static func candidates(_ client: PostgresClient, logger: Logger) async throws -> [Candidate] {
        let rows = try await client.query("""
            SELECT p.id, p.panel_id, pa.site_id, p.number, p.description, p.arm_mode <> 'disarmed', p.disarmed_at, p.schedule_alarm_id,
                   s.time_zone, s.close_grace_minutes
            FROM partitions p JOIN panels pa ON pa.id = p.panel_id JOIN sites s ON s.id = pa.site_id
            WHERE pa.enabled AND (
                (p.arm_mode = 'disarmed' AND p.schedule_alarm_id IS NULL AND EXISTS (SELECT 1 FROM schedule_windows w WHERE w.partition_id = p.id))
                OR (p.arm_mode <> 'disarmed' AND p.schedule_alarm_id IS NOT NULL))
            """, logger: logger)
        var candidates: [Candidate] = []
        for try await (id, panel, site, number, description, armed, disarmedAt, alarm, zone, grace)
            in rows.decode((UUID, UUID, UUID, Int, String?, Bool, Date?, UUID?, String, Int).self) {
            candidates.append(Candidate(id: id, panelID: panel, siteID: site, number: number, description: description, armed: armed,
                                        disarmedAt: disarmedAt, alarmID: alarm, timeZone: zone, graceMinutes: grace))
        }
        return candidates
    }

    /// Raises the spell's alarm if the partition is still as read (locked, disarmed since the same moment, no alarm).
    private func raise(_ kind: AlarmKind, for candidate: Candidate, at now: Date, detail: String) async throws -> Bool {
        try await OutboxTransaction.run(on: client, notifier: notifier, logger: logger) { transaction in
            let connection = transaction.connection
            let rows = try await connection.query("""
                SELECT 1 FROM partitions
                WHERE id = \(candidate.id) AND arm_mode = 'disarmed' AND schedule_alarm_id IS NULL
                  AND disarmed_at IS NOT DISTINCT FROM \(candidate.disarmedAt)
                FOR UPDATE SKIP LOCKED
                """, logger: logger).collect()
            guard !rows.isEmpty else { return false }
            let place = AlarmTitle.Place(number: candidate.number, description: candidate.description)
            let title = AlarmTitle.compose(kind: kind, partition: place, zone: nil, event: detail)
            let outcome = try await raiser.raise(
                .init(siteID: candidate.siteID, panelID: candidate.panelID, kind: kind, priority: kind.defaultPriority, title: title,
                      partition: candidate.number),
                correlation: .none, in: transaction)
            _ = try await repositories.partitions.update(id: candidate.id, set: [.scheduleAlarmId(outcome.alarmID)], on: connection)
            return true
        }
    }

    /// The partition is armed again: the spell is over; its alarm is restored.
    private func restore(_ candidate: Candidate, at now: Date) async throws -> Bool {
        guard let alarm = candidate.alarmID else { return false }
        return try await OutboxTransaction.run(on: client, notifier: notifier, logger: logger) { transaction in
            let connection = transaction.connection
            let rows = try await connection.query("""
                SELECT 1 FROM partitions WHERE id = \(candidate.id) AND arm_mode <> 'disarmed' AND schedule_alarm_id = \(alarm)
                FOR UPDATE SKIP LOCKED
                """, logger: logger).collect()
            guard !rows.isEmpty else { return false }
            _ = try await repositories.partitions.update(id: candidate.id, set: [.scheduleAlarmId(nil)], on: connection)
            try await raiser.restore(alarm: alarm, siteID: candidate.siteID, panelID: candidate.panelID, text: "Partition \(candidate.number) armed",
                                     at: now, in: transaction)
            return true
        }
    }

    /// A zone name the system does not know (the schema checks the shape, not the name): Europe/Warsaw, said once a pass.
    static func fallbackZone(_ candidate: Candidate, logger: Logger) -> TimeZone {
        logger.warning("unknown time zone of a site; judging its schedules in Europe/Warsaw",
                       metadata: ["site": "\(candidate.siteID)", "time_zone": "\(candidate.timeZone)"])
        return TimeZone(identifier: "Europe/Warsaw")!
    }

    /// "Sun 23:14" in the schedule's zone.
    static func local(_ instant: Date, _ schedule: OpenCloseSchedule) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = schedule.timeZone
        let parts = calendar.dateComponents([.weekday, .hour, .minute], from: instant)
        let names = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        return String(format: "%@ %02d:%02d", names[(parts.weekday ?? 1) - 1], parts.hour ?? 0, parts.minute ?? 0)
    }
}
