import APISupport
import Foundation
import GeneratedAPI
import Hummingbird

/// `POST /api/operator-sessions/{id}/revoke` (admin): ends another operator's session (or one's own); 204.
struct OperatorSessionActionHandler: OperatorSessionActions {
    let revocation: OperatorSessionRevocation

    func revoke(id: UUID, principal: Principal, request: Request, context: StamRequestContext) async throws -> Response {
        try await revocation.revoke(id, reason: "revoked by \(principal.login)".prefix(64).description, principal: principal, context: context)
        return Response(status: .noContent)
    }
}
