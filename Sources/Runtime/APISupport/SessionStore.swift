import Foundation

/// Where sessions live (the backend: `OperatorSession` rows in PostgreSQL). Kept as a protocol because this
/// module does not know the generated models.
public protocol SessionStore: Sendable {
    /// Why `principal`'s session may not be used now ("revoked", "expired", "operator deactivated", ...), or
    /// nil when it may.
    func refusal(of session: UUID, principal: Principal) async throws -> String?
}
