import APISupport
import Foundation
import Hummingbird
import Persistence
import PostgresNIO

/// Keeps the station administrable, in front of the generated `PATCH` and `DELETE /api/operators/{id}`:
/// - nobody deactivates, deletes or changes the role of their own operator (409 `own_access`): an admin who
///   locks themselves out mid-shift cannot undo it;
/// - the last active admin is not deactivated, demoted or deleted (409 `last_admin`).
/// An operator who has acted (anything in the audit trail, a login included) cannot be deleted at all: the
/// database refuses it (`audit_entries.operator_id` is `on_delete: restrict`, 409 `still_referenced`), so the
/// trail keeps its authors; deactivate instead.
///
/// Two admins demoting each other at the same instant can both pass this check; the database then refuses the
/// second write (`at_least_one:` of Operator in the schema: a trigger under a lock), mapped to the same 409.
struct OperatorSafetyMiddleware: RouterMiddleware {
    typealias Context = StamRequestContext

    let context: DatabaseContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .patch || request.method == .delete, let target = Self.operatorId(in: request.uri.path),
              let principal = context.principal, principal.role == "admin" else {
            // Not an operator write, or a caller the generated route refuses (403) before any of this matters.
            return try await next(request, context)
        }
        var request = request
        var deactivates = request.method == .delete, newRole: String?
        if request.method == .patch {
            let body = try await request.collectBody(upTo: context.maxUploadSize)
            // A body the generated route will refuse (not JSON, wrong types) passes through to get its 400/422.
            if let object = (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] {
                if let active = object["active"] as? Bool, !active { deactivates = true }
                newRole = object["role"] as? String
            }
        }
        let current = try await self.context.client.query(
            "SELECT role, active FROM operators WHERE id = \(target)", logger: context.logger).collect().first
            .map { try $0.decode((String, Bool).self) }
        guard let (role, active) = current else { return try await next(request, context) }
        let changesRole = newRole.map { $0 != role } ?? false
        guard deactivates || changesRole else { return try await next(request, context) }
        if target == principal.operatorId {
            throw APIError(status: .conflict, code: "own_access",
                           message: "you cannot deactivate, delete or change the role of your own operator; ask another admin")
        }
        if role == "admin", active {
            let others = try await self.context.client.query(
                "SELECT count(*) FROM operators WHERE role = 'admin' AND active AND id <> \(target)", logger: context.logger)
                .collect().first.map { try $0.decode(Int.self) } ?? 0
            if others == 0 {
                throw APIError(status: .conflict, code: "last_admin",
                               message: "this is the last active admin; make another operator an admin first")
            }
        }
        return try await next(request, context)
    }

    /// The id in `/api/operators/{id}` (a trailing slash allowed, as the router allows it).
    static func operatorId(in path: String) -> UUID? {
        let parts = path.split(separator: "/")
        guard parts.count == 3, parts[0] == "api", parts[1] == "operators" else { return nil }
        return UUID(uuidString: String(parts[2]))
    }
}
