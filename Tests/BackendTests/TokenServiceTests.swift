import APISupport
import Foundation
import Testing
import _CryptoExtras

/// The verified-token cache never outlives a token: a remembered token is refused once it expires.
@Suite struct TokenServiceTests {
    @Test func aVerifiedTokenIsRememberedOnlyUntilItExpires() async throws {
        let key = APITests.keyPair
        let tokens = try await TokenService(publicKeyPEM: key.publicKey.pemRepresentation, privateKeyPEM: key.pemRepresentation,
                                            lifetime: .seconds(1))
        let issued = Date()
        var principal = Principal(operatorId: UUID(), login: "ola", role: "operator", sessionId: UUID())
        let token = try await tokens.issue(for: principal, now: issued)
        // The verified principal carries the session and the expiry.
        let verified = try await tokens.verify(token)
        #expect(abs((verified.expiresAt ?? .distantPast).timeIntervalSince(issued.addingTimeInterval(1))) < 1)
        principal.expiresAt = verified.expiresAt
        #expect(verified == principal)
        #expect(try await tokens.verify(token) == principal)  // from the cache
        try await Task.sleep(for: .milliseconds(1300))
        await #expect(throws: APIError.self) { try await tokens.verify(token) }
    }
}
