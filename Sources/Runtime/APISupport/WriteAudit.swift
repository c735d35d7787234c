import PostgresNIO

/// Records a write of the generated API in the write's own transaction: the trail has an entry exactly when
/// the change committed. The backend implements it with an `AuditEntry` row (who, what, when, request id,
/// client address, the changed fields); generated routes cannot be built without one.
public protocol WriteAudit: Sendable {
    func record(_ change: AuditedChange, context: StamRequestContext, on connection: PostgresConnection) async throws
}
