import APISupport
import Foundation
import Generated
import GeneratedAPI
import Hummingbird
import Persistence
import StamCore

/// `set_password`: the body's password (10 to 1024 characters without control characters, checked by the route as
/// the schema declares) stored as a hash (`PasswordHasher`) in the encrypted `password_hash` column; 204.
/// `password_changed_at` ends every session the operator opened before (`OperatorSessionStore`). The password
/// never reaches a log or the audit details.
struct OperatorActionHandler: OperatorActions {
    let repositories: Repositories
    let audit: AuditTrail

    init(repositories: Repositories) {
        self.repositories = repositories
        audit = AuditTrail(repositories: repositories)
    }

    func setPassword(id: UUID, body: OperatorSetPasswordBody, principal: Principal, request: Request, context: StamRequestContext) async throws -> Response {
        let hash = try await PasswordHasher.hash(body.password)
        try await repositories.context.transaction { connection in
            guard var user = try await repositories.operators.find(id: id, on: connection) else { throw APIError.notFound("no operator \(id)") }
            user.passwordHash = Secret(hash)
            user.passwordChangedAt = Date()
            _ = try await repositories.operators.update(user, on: connection)
            try await audit.record("operator.set_password", entityType: "Operator", entityId: id, principal: principal, context: context, on: connection)
        }
        return Response(status: .noContent)
    }
}
