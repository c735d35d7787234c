import Foundation
import Logging
import PostgresNIO

/// One incident, one alarm: an INTEGRA with a GSM module reports a violation both in its event log (read by the
/// worker) and by SMS (read by the SMS consumer), and the two used to become two unrelated alarms (issue 18). Both
/// paths ask here, inside their own transaction, for an open alarm of the same panel and kind raised within
/// `window`; the report joins it (`reports + 1`) instead of raising another. Both paths first take the panel's
/// transaction-level advisory lock, so two reports committing at the same moment cannot both miss each other.
/// Column names are those of the generated `Alarm` entity.
public enum AlarmCorrelation {
    /// How close in time two reports of one panel and kind must be to be one incident.
    public static let window: TimeInterval = 600

    /// Serialises alarm raising per panel until the transaction ends.
    public static func lock(panelID: UUID, on connection: PostgresConnection, logger: Logger) async throws {
        let key = "stam.alarm.\(panelID.uuidString.lowercased())"
        // Its row is read: a stream left unread when the server closes the connection trips postgres-nio's state machine.
        _ = try await connection.query("SELECT pg_advisory_xact_lock(hashtextextended(\(key), 0))::text", logger: logger).collect()
    }

    /// The newest open alarm of `panelID` and `kind` raised within the window (in the database's time); with
    /// `withoutPanelEvent`, only one no event-log record raised (an SMS's: an event-log record never joins another
    /// record's alarm, each record stays its own alarm).
    public static func openAlarm(panelID: UUID, kind: String, withoutPanelEvent: Bool, on connection: PostgresConnection,
                                 logger: Logger) async throws -> UUID? {
        let rows = try await connection.query("""
            SELECT id FROM alarms
            WHERE panel_id = \(panelID) AND kind = \(kind) AND state <> 'closed'
              AND raised_at >= now() - make_interval(secs => \(window))
              AND (\(withoutPanelEvent) = false OR panel_event_id IS NULL)
            ORDER BY raised_at DESC LIMIT 1
            """, logger: logger)
        for try await id in rows.decode(UUID.self) { return id }
        return nil
    }

    /// Inserts a new alarm, `raised_at` in the database's time (the clock `openAlarm` compares it with: a writer
    /// whose clock is behind must not leave its alarm outside the window at once, nor one ahead keep it in longer),
    /// and returns that time for the alarm's event. The one INSERT of an alarm for the worker and the SMS consumer.
    /// Column names are those of the generated `Alarm` entity; kind, priority and state are raw enum values.
    public static func raise(id: UUID, siteID: UUID, panelID: UUID?, panelEventID: UUID? = nil, kind: String, priority: String,
                             state: String, title: String, zone: Int? = nil, partition: Int? = nil,
                             on connection: PostgresConnection, logger: Logger) async throws -> Date {
        let rows = try await connection.query("""
            INSERT INTO alarms (id, site_id, panel_id, panel_event_id, kind, priority, state, title, zone_number, partition_number, raised_at)
            VALUES (\(id), \(siteID), \(panelID), \(panelEventID), \(kind), \(priority), \(state), \(title), \(zone), \(partition), now())
            RETURNING raised_at
            """, logger: logger)
        for try await raisedAt in rows.decode(Date.self) { return raisedAt }
        throw NoRowReturned()
    }

    /// An INSERT ... RETURNING that returned nothing: cannot happen short of a broken server or pooler.
    public struct NoRowReturned: Error, CustomStringConvertible, Sendable {
        public var description: String { "the alarm's INSERT returned no row" }
    }

    /// Counts one more report on the alarm; with a panel event (the event-log record joining an SMS's alarm), the
    /// alarm also takes the record's event, zone and partition, which an SMS does not know.
    public static func join(alarm: UUID, panelEvent: UUID? = nil, zone: Int? = nil, partition: Int? = nil,
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
}
