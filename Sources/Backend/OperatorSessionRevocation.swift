import APISupport
import Foundation
import Generated
import Hummingbird
import StamCore

/// Ends a session: `revoked_at` and the reason on its row and an audit entry, in one transaction; this
/// backend forgets its cached answer at once, the others within `SessionVerifier.maxAge`. Ending a session
/// that has already ended changes nothing and succeeds (a retried logout is not an error).
struct OperatorSessionRevocation: Sendable {
    let repositories: Repositories
    let sessions: SessionVerifier
    let audit: AuditTrail

    init(repositories: Repositories, sessions: SessionVerifier) {
        self.repositories = repositories
        self.sessions = sessions
        audit = AuditTrail(repositories: repositories)
    }

    func revoke(_ id: UUID, reason: String, principal: Principal, context: StamRequestContext) async throws {
        try await repositories.context.transaction { connection in
            guard var session = try await repositories.operatorSessions.find(id: id, on: connection) else {
                throw APIError.notFound("no operator session \(id)")
            }
            guard session.revokedAt == nil else { return }
            session.revokedAt = Date()
            session.revokedReason = reason
            _ = try await repositories.operatorSessions.update(session, on: connection)
            try await audit.record(reason == "logout" ? "logout" : "operator_session.revoke", entityType: "OperatorSession", entityId: id,
                                   principal: principal, context: context,
                                   details: .object(["operator_id": .string(session.operatorId.uuidString.lowercased())]), on: connection)
        }
        sessions.forget(id)
    }
}
