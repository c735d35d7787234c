import APISupport
import Foundation
import Generated
import Hummingbird
import Persistence
import PostgresNIO

/// `POST /api/auth/login` `{"login": ..., "password": ...}` -> `{"access_token": ..., "token_type": "Bearer",
/// "expires_in": ..., "role": ...}`. Failures are counted per account and per address; past the limit the
/// answer is 429 with `Retry-After`, before the password is even checked (bcrypt is the expensive part).
/// Unknown login, wrong password, no password set and a deactivated account all answer the same 401.
public struct LoginController: Sendable {
    let repositories: Repositories
    let tokens: TokenService
    let limiter: LoginRateLimiter

    struct Answer: Encodable {
        var accessToken: String
        var tokenType = "Bearer"
        var expiresIn: Int
        var role: String

        enum CodingKeys: String, CodingKey {
            case accessToken = "access_token", tokenType = "token_type", expiresIn = "expires_in", role
        }
    }

    public func login(_ request: Request, context: StamRequestContext) async throws -> Response {
        var input = try JSONObjectReader(body: try await APIResponse.body(of: request, context: context), allowed: ["login", "password"])
        let login = input.string("login", max: 64, optional: false)
        let password = input.string("password", max: 1024, optional: false)
        input.require("login", login)
        input.require("password", password)
        try input.finish()
        let account = login!!, secret = password!!
        if let wait = limiter.retryAfter(account: account, address: context.peerAddress) {
            throw APIError(status: .tooManyRequests, code: "too_many_attempts", message: "too many failed logins; try again in \(wait) s",
                           headers: [.retryAfter: String(wait)])
        }
        guard let user = try await findOperator(login: account), user.active, let hash = user.passwordHash,
              try await PasswordHasher.verify(secret, hash: hash.revealed) else {
            limiter.recordFailure(account: account, address: context.peerAddress)
            context.logger.notice("login refused", metadata: ["login": .string(account)])
            throw APIError.unauthorized("wrong login or password")
        }
        limiter.recordSuccess(account: account)
        var updated = user
        updated.lastLoginAt = Date()
        _ = try? await repositories.operators.update(updated)
        let principal = Principal(operatorId: user.id, login: user.login, role: user.role.rawValue)
        let token = try await tokens.issue(for: principal)
        context.logger.info("login", metadata: ["login": .string(account)])
        return try APIResponse.json(Answer(accessToken: token, expiresIn: Int(tokens.lifetime.components.seconds), role: principal.role))
    }

    func findOperator(login: String) async throws -> Operator? {
        let context = repositories.context
        let rows = try await context.client.query("SELECT id FROM operators WHERE login = \(login)", logger: context.logger).collect()
        guard let id = try rows.first?.decode(UUID.self) else { return nil }
        return try await repositories.operators.find(id: id)
    }
}
