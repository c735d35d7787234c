import APISupport
import Foundation
import Generated
import PostgresNIO
import StamCore

/// Writes an `AuditEntry` for an action in the action's own transaction: the trail has an entry exactly
/// when the change committed.
struct AuditTrail: Sendable {
    let repositories: Repositories

    func record(_ action: String, entityType: String, entityId: UUID?, principal: Principal, context: StamRequestContext,
                details: JSONValue? = nil, on connection: PostgresConnection) async throws {
        _ = try await repositories.auditEntries.insert(
            AuditEntry(operatorId: principal.operatorId, action: action, entityType: entityType, entityId: entityId,
                       requestId: context.requestId.isEmpty ? nil : String(context.requestId.prefix(64)), details: details),
            on: connection)
    }
}
