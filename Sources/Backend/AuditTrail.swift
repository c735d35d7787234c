import APISupport
import Foundation
import Generated
import PostgresNIO
import StamCore

/// Writes an `AuditEntry` for an action in the action's own transaction: the trail has an entry exactly
/// when the change committed. Each entry names the request id and the client's address. The generated routes
/// record their creates, updates and deletes through it too (`WriteAudit`), with the changed fields.
struct AuditTrail: WriteAudit {
    let repositories: Repositories

    func record(_ action: String, entityType: String, entityId: UUID?, principal: Principal, context: StamRequestContext,
                details: JSONValue? = nil, on connection: PostgresConnection) async throws {
        try await record(action, entityType: entityType, entityId: entityId, operatorId: principal.operatorId, context: context,
                         details: details, on: connection)
    }

    func record(_ change: AuditedChange, context: StamRequestContext, on connection: PostgresConnection) async throws {
        try await record(change.action, entityType: change.entityType, entityId: change.entityId, operatorId: context.principal?.operatorId,
                         context: context, details: change.changes, on: connection)
    }

    /// `operatorId` nil: nobody known acted (a failed login of an unknown account).
    func record(_ action: String, entityType: String, entityId: UUID?, operatorId: UUID?, context: StamRequestContext,
                details: JSONValue? = nil, on connection: PostgresConnection) async throws {
        _ = try await repositories.auditEntries.insert(
            AuditEntry(operatorId: operatorId, action: action, entityType: entityType, entityId: entityId,
                       requestId: context.requestId.isEmpty ? nil : String(context.requestId.prefix(64)),
                       address: context.clientAddress.map { String($0.prefix(64)) }, details: details),
            on: connection)
    }
}
