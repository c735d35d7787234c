import Foundation
import Generated
import PostgresNIO
import StamCore

/// Writes one line of an alarm's timeline (`AlarmHistoryEntry`, append-only) in the caller's transaction, so the
/// timeline has a line exactly when the change it records committed. Every writer of an alarm goes through it:
/// `AlarmRaiser` (raised, joined), `AlarmEscalator` (escalated) and the backend's alarm actions.
public struct AlarmHistory: Sendable {
    let entries: AlarmHistoryEntryRepository

    public init(repositories: Repositories) {
        entries = repositories.alarmHistoryEntries
    }

    /// `at`: the time the change itself was given (`raised_at`, `acknowledged_at`, ...), so the timeline and the
    /// alarm's own columns agree.
    public func record(_ kind: AlarmHistoryKind, alarm: UUID, by operatorID: UUID? = nil, text: String? = nil,
                       details: JSONValue? = nil, at: Date, on connection: PostgresConnection) async throws {
        _ = try await entries.insert(AlarmHistoryEntry(alarmId: alarm, at: at, kind: kind, operatorId: operatorID, text: text, details: details),
                                     on: connection)
    }
}
