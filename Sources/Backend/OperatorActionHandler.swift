import APISupport
import Foundation
import Generated
import GeneratedAPI
import Hummingbird
import Persistence
import StamCore

/// `set_password`: `{"password": "..."}` (`PasswordHasher.problem`: at least 10 characters, at most bcrypt's 72
/// bytes, no control characters), stored as a bcrypt hash in the encrypted `password_hash` column; 204.
/// `password_changed_at` ends every session the operator opened before (`OperatorSessionStore`). The password
/// never reaches a log or the audit details.
struct OperatorActionHandler: OperatorActions {
    let repositories: Repositories
    let audit: AuditTrail

    init(repositories: Repositories) {
        self.repositories = repositories
        audit = AuditTrail(repositories: repositories)
    }

    func setPassword(id: UUID, principal: Principal, request: Request, context: StamRequestContext) async throws -> Response {
        var input = try JSONObjectReader(body: try await APIResponse.body(of: request, context: context), allowed: ["password"])
        let password = input.string("password", max: 1024, optional: false)
        input.require("password", password)
        if case let text?? = password, let problem = PasswordHasher.problem(with: text) { input.fail("password", problem) }
        try input.finish()
        let hash = try await PasswordHasher.hash(password!!)
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
