import Foundation

/// Who made a request: the operator from a verified access token.
public struct Principal: Sendable, Hashable, Codable {
    public var operatorId: UUID
    public var login: String
    /// One of the schema's `roles`.
    public var role: String
    /// The `OperatorSession` the token was issued for (`sid`); nil only in a token without one, which the API
    /// refuses.
    public var sessionId: UUID?
    /// The token's expiry (a verified principal always has one; WebSockets close at it).
    public var expiresAt: Date?

    public init(operatorId: UUID, login: String, role: String, sessionId: UUID? = nil, expiresAt: Date? = nil) {
        self.operatorId = operatorId
        self.login = login
        self.role = role
        self.sessionId = sessionId
        self.expiresAt = expiresAt
    }
}
