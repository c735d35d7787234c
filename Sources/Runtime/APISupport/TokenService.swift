import Crypto
import Foundation
import JWTKit
import StamCore

/// Issues and verifies operator access tokens: RS256 signed with the `jwt_private_key` secret, verified with
/// `jwt_public_key`, a key id derived from the public key (so every backend with the same key pair agrees
/// and a token from another key pair is an unknown `kid`), and fixed issuer and audience.
///
/// Refused (401): no `kid`, an unknown `kid`, any algorithm but RS256 (so `alg: none` and an HS256 token
/// "signed" with the public key fail), a bad signature, an expired token, another issuer or audience.
public struct TokenService: Sendable {
    public let issuer: String
    public let audience: String
    public let lifetime: Duration
    public let keyId: String
    private let keys: JWTKeyCollection
    private let canSign: Bool
    private let verified = VerifiedTokenCache()

    /// - Parameter privateKeyPEM: nil for a verifier only.
    public init(publicKeyPEM: String, privateKeyPEM: String?, issuer: String = "stam", audience: String = "stam-operators",
                lifetime: Duration = .seconds(8 * 3600)) async throws {
        let publicKey = try Insecure.RSA.PublicKey(pem: publicKeyPEM)
        keyId = Self.keyId(of: publicKeyPEM)
        self.issuer = issuer
        self.audience = audience
        self.lifetime = lifetime
        keys = JWTKeyCollection()
        if let privateKeyPEM {
            let privateKey = try Insecure.RSA.PrivateKey(pem: privateKeyPEM)
            guard privateKey.publicKey == publicKey else {
                throw APIError(status: .internalServerError, code: "key_mismatch", message: "jwt_private_key and jwt_public_key are not a pair")
            }
            await keys.add(rsa: privateKey, digestAlgorithm: .sha256, kid: JWKIdentifier(string: keyId))
            canSign = true
        } else {
            await keys.add(rsa: publicKey, digestAlgorithm: .sha256, kid: JWKIdentifier(string: keyId))
            canSign = false
        }
    }

    /// `sha256(public key PEM)` prefix, hex.
    static func keyId(of publicKeyPEM: String) -> String {
        let normalized = publicKeyPEM.trimmingCharacters(in: .whitespacesAndNewlines)
        return "stam-" + SHA256.hash(data: Data(normalized.utf8)).prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    public func issue(for principal: Principal, now: Date = Date()) async throws -> String {
        guard canSign else { throw APIError(status: .internalServerError, code: "no_signing_key", message: "this process has no jwt_private_key") }
        let payload = AccessTokenPayload(principal: principal, issuer: issuer, audience: audience, issuedAt: now, lifetime: lifetime)
        return try await keys.sign(payload, kid: JWKIdentifier(string: keyId))
    }

    /// The principal of a valid token; `APIError.unauthorized` with the reason otherwise.
    public func verify(_ token: String, now: Date = Date()) async throws -> Principal {
        if let principal = verified.principal(for: token, now: now) { return principal }
        guard Self.header(of: token)?["kid"] != nil else { throw APIError.unauthorized("the token has no key id") }
        let payload: AccessTokenPayload
        do {
            payload = try await keys.verify(token, as: AccessTokenPayload.self)
        } catch {
            throw APIError.unauthorized("the token is not valid: \(Self.reason(error))")
        }
        guard payload.iss.value == issuer else { throw APIError.unauthorized("the token was issued by '\(payload.iss.value)'") }
        do {
            try payload.aud.verifyIntendedAudience(includes: audience)
        } catch {
            throw APIError.unauthorized("the token is not for this audience")
        }
        guard let operatorId = UUID(uuidString: payload.sub.value) else { throw APIError.unauthorized("the token's subject is not an operator id") }
        var sessionId: UUID?
        if let sid = payload.sid {
            guard let id = UUID(uuidString: sid) else { throw APIError.unauthorized("the token's session id is malformed") }
            sessionId = id
        }
        let principal = Principal(operatorId: operatorId, login: payload.login, role: payload.role, sessionId: sessionId,
                                  expiresAt: payload.exp.value)
        verified.remember(token, principal: principal, expires: payload.exp.value, now: now)
        return principal
    }

    static func header(of token: String) -> [String: Any]? {
        guard let first = token.split(separator: ".", omittingEmptySubsequences: false).first,
              let data = Base64URL.decode(first) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }

    /// A short reason without echoing the token.
    static func reason(_ error: any Error) -> String {
        guard let error = error as? JWTError else { return "malformed" }
        switch error.errorType {
        case .claimVerificationFailure: return "expired"
        case .signatureVerificationFailed: return "bad signature"
        case .unknownKID: return "unknown key id"
        case .signingAlgorithmFailure, .unsupportedAlgorithm: return "algorithm not accepted"
        default: return "malformed"
        }
    }
}
