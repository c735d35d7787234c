import Foundation
import JWTKit

/// The claims of an operator's access token (RS256). Issuer and audience are checked by `TokenService`
/// against its configuration; expiry here.
public struct AccessTokenPayload: JWTPayload, Equatable {
    public var sub: SubjectClaim
    public var iss: IssuerClaim
    public var aud: AudienceClaim
    public var exp: ExpirationClaim
    public var iat: IssuedAtClaim
    public var login: String
    public var role: String
    /// The session's id (`OperatorSession`), checked on every request so a logout or a revocation ends the token.
    public var sid: String?

    public init(principal: Principal, issuer: String, audience: String, issuedAt: Date, lifetime: Duration) {
        sub = SubjectClaim(value: principal.operatorId.uuidString.lowercased())
        iss = IssuerClaim(value: issuer)
        aud = AudienceClaim(value: audience)
        iat = IssuedAtClaim(value: issuedAt)
        exp = ExpirationClaim(value: issuedAt.addingTimeInterval(Double(lifetime.components.seconds)))
        login = principal.login
        role = principal.role
        sid = principal.sessionId?.uuidString.lowercased()
    }

    public func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
    }
}
