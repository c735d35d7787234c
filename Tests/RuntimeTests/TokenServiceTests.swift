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
        let principal = Principal(operatorId: UUID(), login: "ola", role: "operator")
        let token = try await tokens.issue(for: principal)
        #expect(try await tokens.verify(token) == principal)
        #expect(try await tokens.verify(token) == principal)  // from the cache
        try await Task.sleep(for: .milliseconds(1300))
        await #expect(throws: APIError.self) { try await tokens.verify(token) }
    }
}
