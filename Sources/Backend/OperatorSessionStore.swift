import APISupport
import Foundation
import Persistence
import PostgresNIO

/// Answers `SessionVerifier` from PostgreSQL: one read of the session and its operator. The validity rules
/// are derived from the operator's current row rather than from revocation writes, so every way an operator
/// changes ends their sessions, whichever path made the change (generated routes, actions, `stam user`, SQL):
/// deleted (the session went with it), deactivated, another role, a password set since the session began.
struct OperatorSessionStore: SessionStore {
    let context: DatabaseContext

    func refusal(of session: UUID, principal: Principal) async throws -> String? {
        let rows = try await context.client.query("""
            SELECT s.operator_id, s.revoked_at, s.revoked_reason, s.expires_at, s.created_at, o.active, o.role, o.password_changed_at
            FROM operator_sessions s JOIN operators o ON o.id = s.operator_id WHERE s.id = \(session)
            """, logger: context.logger).collect()
        guard let row = rows.first else { return "no such session (signed out everywhere, or the operator was removed)" }
        let (operatorId, revokedAt, reason, expiresAt, createdAt, active, role, passwordChangedAt) =
            try row.decode((UUID, Date?, String?, Date, Date, Bool, String, Date?).self)
        if operatorId != principal.operatorId { return "the session belongs to another operator" }
        if revokedAt != nil { return reason == "logout" ? "logged out" : "revoked (\(reason ?? "by an admin"))" }
        if expiresAt <= Date() { return "expired" }
        if !active { return "the operator was deactivated" }
        if role != principal.role { return "the operator's role changed" }
        if let passwordChangedAt, passwordChangedAt > createdAt { return "the password was changed" }
        return nil
    }
}
