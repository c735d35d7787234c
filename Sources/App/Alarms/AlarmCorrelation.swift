import Foundation
import Generated
import Logging
import PostgresNIO

/// One incident, one alarm: an INTEGRA with a GSM module reports a violation both in its event log (read by the
/// worker) and by SMS (read by the SMS consumer), and the two used to become two unrelated alarms. Both paths ask
/// here, inside their own transaction, for an open alarm of the same panel and kind raised within `window`; the
/// report joins it (`reports + 1`) instead of raising another. Both first take the panel's transaction-level
/// advisory lock, so two reports committing at the same moment cannot both miss each other.
///
/// Hand-written SQL on purpose: a time window in the database's clock, a conditional increment and an advisory
/// lock, none of which a generated repository method says better. `AlarmRaiser` is its only caller.
enum AlarmCorrelation {
    /// How close in time two reports of one panel and kind must be to be one incident.
    static let window: TimeInterval = 600

    /// The transaction's time, the clock `openAlarms` compares `raised_at` with, and until when the report's site or
    /// panel is on test, if either is now (in the database's time).
    struct Moment {
        var now: Date
        var onTestUntil: Date?
    }

    /// Serialises alarm raising per panel until the transaction ends, and reads the `Moment` in the same statement
    /// (one round trip less on every alarm; whether a site is on test is not what the lock serialises).
    static func lock(panelID: UUID, site: UUID, on connection: PostgresConnection, logger: Logger) async throws -> Moment {
        let key = "stam.alarm.\(panelID.uuidString.lowercased())"
        // Its row is read: a stream left unread when the server closes the connection trips postgres-nio's state machine.
        let rows = try await connection.query("""
            SELECT pg_advisory_xact_lock(hashtextextended(\(key), 0))::text, now(), greatest(
                (SELECT on_test_until FROM sites WHERE id = \(site) AND on_test_until > now()),
                (SELECT on_test_until FROM panels WHERE id = \(panelID) AND on_test_until > now()))
            """, logger: logger)
        for try await (_, now, until) in rows.decode((String, Date, Date?).self) { return Moment(now: now, onTestUntil: until) }
        throw NoRowReturned()
    }

    /// The `Moment` of a report that joins no other (nothing to serialise).
    static func moment(site: UUID, panel: UUID?, on connection: PostgresConnection, logger: Logger) async throws -> Moment {
        let rows = try await connection.query("""
            SELECT now(), greatest(
                (SELECT on_test_until FROM sites WHERE id = \(site) AND on_test_until > now()),
                (SELECT on_test_until FROM panels WHERE id = \(panel) AND on_test_until > now()))
            """, logger: logger)
        for try await (now, until) in rows.decode((Date, Date?).self) { return Moment(now: now, onTestUntil: until) }
        throw NoRowReturned()
    }

    /// The transaction's time (`now()`: the same for every statement of the transaction).
    static func transactionTime(on connection: PostgresConnection, logger: Logger) async throws -> Date {
        for try await now in try await connection.query("SELECT now()", logger: logger).decode(Date.self) { return now }
        throw NoRowReturned()
    }

    /// The alarm a report joins, if any, in one statement (after `lock`, so its snapshot sees every alarm of the
    /// panel committed before):
    /// - `open`: the newest open alarm of `panelID` and `kind` raised within the window (in the database's time); with
    ///   `withoutPanelEvent`, only one no event-log record raised (an SMS's: an event-log record never joins another
    ///   record's alarm, each record stays its own alarm);
    /// - `repeat` (asked with `withRepeat`): the newest open alarm of the same panel, class and zone (none matches
    ///   none) that an event-log record raised within the window: a storm of one detector's alarms is one alarm with
    ///   a count (issue 20 point 7).
    static func openAlarms(panelID: UUID, kind: AlarmKind, withoutPanelEvent: Bool, withRepeat: Bool, priority: AlarmPriority, zone: Int?,
                           on connection: PostgresConnection, logger: Logger) async throws -> (open: UUID?, repeat: UUID?) {
        let rows = try await connection.query("""
            SELECT
              (SELECT id FROM alarms
               WHERE panel_id = \(panelID) AND kind = \(kind.rawValue) AND state <> \(AlarmState.closed.rawValue)
                 AND raised_at >= now() - make_interval(secs => \(window))
                 AND (\(withoutPanelEvent) = false OR panel_event_id IS NULL)
               ORDER BY raised_at DESC LIMIT 1),
              (SELECT id FROM alarms
               WHERE \(withRepeat) AND panel_id = \(panelID) AND priority = \(priority.rawValue) AND zone_number IS NOT DISTINCT FROM \(zone)
                 AND state <> \(AlarmState.closed.rawValue) AND panel_event_id IS NOT NULL
                 AND raised_at >= now() - make_interval(secs => \(window))
               ORDER BY raised_at DESC LIMIT 1)
            """, logger: logger)
        for try await (open, repeated) in rows.decode((UUID?, UUID?).self) { return (open, repeated) }
        throw NoRowReturned()
    }

    /// The alarm's report count (after a join).
    static func reports(of alarm: UUID, on connection: PostgresConnection, logger: Logger) async throws -> Int {
        for try await count in try await connection.query("SELECT reports FROM alarms WHERE id = \(alarm)", logger: logger).decode(Int.self) {
            return count
        }
        throw NoRowReturned()
    }

    /// Counts one more report on the alarm; with a panel event (the event-log record joining an SMS's alarm), the
    /// alarm also takes the record's event, zone and partition, which an SMS does not know.
    static func join(alarm: UUID, panelEvent: UUID?, zone: Int?, partition: Int?,
                     on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("""
            UPDATE alarms SET reports = reports + 1,
                   panel_event_id = COALESCE(panel_event_id, \(panelEvent)),
                   zone_number = COALESCE(zone_number, \(zone)),
                   partition_number = COALESCE(partition_number, \(partition)),
                   version = version + 1
            WHERE id = \(alarm)
            """, logger: logger)
    }

    /// A query that always returns a row returned none: cannot happen short of a broken server or pooler.
    struct NoRowReturned: Error, CustomStringConvertible, Sendable {
        var description: String { "a query that returns one row returned none" }
    }
}
