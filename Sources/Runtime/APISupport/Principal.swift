import Foundation

/// Who made a request: the operator from a verified access token.
public struct Principal: Sendable, Hashable, Codable {
    public var operatorId: UUID
    public var login: String
    /// One of the schema's `roles`.
    public var role: String

    public init(operatorId: UUID, login: String, role: String) {
        self.operatorId = operatorId
        self.login = login
        self.role = role
    }
}
