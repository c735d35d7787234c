import Logging
import PostgresNIO

/// What the store left in PostgreSQL, read after a pass: the messages (by token, and whether any content key is there
/// twice), the accounts with a last signal and their paths (a link test keeps no message, only these), the DC-09 panel events, the alarms and their reports, the `AlarmRaised` outbox rows, and the security log's
/// audit rows for unknown accounts.
struct DC09StoreCheck: Equatable {
    var messages = 0
    var linkTestMessages = 0
    var eventMessages = 0
    /// Rows beyond the first with the same content key: a message stored more than once.
    var repeatedKeys = 0
    var panelEvents = 0
    var alarms = 0
    var alarmReports = 0
    var alarmRaisedRows = 0
    var unknownAccountEntries = 0
    var signalledAccounts = 0
    var paths = 0

    static func read(_ stack: DC09BenchStack, logger: Logger) async throws -> DC09StoreCheck {
        let connection = try await stack.connect(logger)
        do {
            let check = try await read(connection, logger: logger)
            try await connection.close()
            return check
        } catch {
            try? await connection.close()
            throw error
        }
    }

    static func read(_ connection: PostgresConnection, logger: Logger) async throws -> DC09StoreCheck {
        let rows = try await connection.query("""
            SELECT (SELECT count(*) FROM dc09_messages)::int8,
                   (SELECT count(*) FROM dc09_messages WHERE token = 'NULL')::int8,
                   (SELECT count(*) FROM dc09_messages WHERE token = 'ADM-CID')::int8,
                   (SELECT count(*) - count(DISTINCT content_key) FROM dc09_messages)::int8,
                   (SELECT count(*) FROM panel_events WHERE source = 'dc09')::int8,
                   (SELECT count(*) FROM alarms)::int8,
                   (SELECT coalesce(sum(reports), 0) FROM alarms)::int8,
                   (SELECT count(*) FROM outbox WHERE event_name = 'AlarmRaised')::int8,
                   (SELECT count(*) FROM audit_entries WHERE action = 'dc09.unknown_account')::int8,
                   (SELECT count(*) FROM dc09_accounts WHERE last_signal_at IS NOT NULL)::int8,
                   (SELECT count(*) FROM dc09_paths)::int8
            """, logger: logger)
        var check = DC09StoreCheck()
        for try await row in rows.decode((Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64).self) {
            check = DC09StoreCheck(messages: Int(row.0), linkTestMessages: Int(row.1), eventMessages: Int(row.2), repeatedKeys: Int(row.3),
                                   panelEvents: Int(row.4), alarms: Int(row.5), alarmReports: Int(row.6), alarmRaisedRows: Int(row.7),
                                   unknownAccountEntries: Int(row.8), signalledAccounts: Int(row.9), paths: Int(row.10))
        }
        return check
    }

    /// What was added since `earlier` (each pass is checked on its own).
    func since(_ earlier: DC09StoreCheck) -> DC09StoreCheck {
        DC09StoreCheck(messages: messages - earlier.messages, linkTestMessages: linkTestMessages - earlier.linkTestMessages,
                       eventMessages: eventMessages - earlier.eventMessages, repeatedKeys: repeatedKeys - earlier.repeatedKeys,
                       panelEvents: panelEvents - earlier.panelEvents, alarms: alarms - earlier.alarms, alarmReports: alarmReports - earlier.alarmReports,
                       alarmRaisedRows: alarmRaisedRows - earlier.alarmRaisedRows,
                       unknownAccountEntries: unknownAccountEntries - earlier.unknownAccountEntries,
                       signalledAccounts: signalledAccounts - earlier.signalledAccounts, paths: paths - earlier.paths)
    }
}
