import APISupport
import Foundation
import Generated
import Hummingbird
import Persistence
import PostgresNIO
import StamCore

/// `POST /api/auth/login` `{"login": ..., "password": ...}` -> `{"access_token": ..., "token_type": "Bearer",
/// "expires_in": ..., "role": ...}`, and `POST /api/auth/logout` (authenticated) -> 204.
///
/// A login opens an `OperatorSession` (the token carries its id) and is audited with the client's address and
/// user agent; so is every failed attempt. `LoginThrottle` delays repeated failures of one account from one
/// address, before the password is even checked (bcrypt is the expensive part). Unknown login, wrong password,
/// no password set and a deactivated account all answer the same 401 after the same bcrypt work.
public struct LoginController: Sendable {
    let repositories: Repositories
    let tokens: TokenService
    let throttle: LoginThrottle
    let sessions: SessionVerifier
    let metrics: BackendMetrics
    let audit: AuditTrail

    init(repositories: Repositories, tokens: TokenService, throttle: LoginThrottle, sessions: SessionVerifier, metrics: BackendMetrics) {
        self.repositories = repositories
        self.tokens = tokens
        self.throttle = throttle
        self.sessions = sessions
        self.metrics = metrics
        audit = AuditTrail(repositories: repositories)
    }

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
        // No format here: a login made before the rules existed must still log in; control characters never do.
        let login = input.string("login", max: 64, min: 1, lineBreaks: false, optional: false)
        // No control characters, as no password can hold one (set_password refuses them): a 422, not a bcrypt run.
        let password = input.string("password", max: 1024, lineBreaks: false, optional: false)
        input.require("login", login)
        input.require("password", password)
        try input.finish()
        let account = login!!, secret = password!!
        let address = context.clientAddress
        if let (wait, reason) = throttle.retryAfter(account: account, address: address) {
            metrics.recordLogin(outcome: "throttled_\(reason.rawValue)")
            context.logger.notice("login throttled", metadata: ["login": .string(account), "reason": .string(reason.rawValue)])
            throw APIError(status: .tooManyRequests, code: "too_many_attempts", message: "too many failed logins; try again in \(wait) s",
                           headers: [.retryAfter: String(wait)])
        }
        let user = try await findOperator(login: account)
        let userAgent = Self.userAgent(of: request)
        guard let user, user.active, let hash = user.passwordHash, try await PasswordHasher.verify(secret, hash: hash.revealed) else {
            if user?.active != true || user?.passwordHash == nil { try await PasswordHasher.verifyDecoy(secret) }
            throttle.recordFailure(account: account, address: address)
            metrics.recordLogin(outcome: "refused")
            context.logger.notice("login refused", metadata: ["login": .string(account)])
            try await repositories.context.transaction { connection in
                try await audit.record("login_failed", entityType: "Operator", entityId: user?.id, operatorId: user?.id, context: context,
                                       details: .object(["login": .string(account), "user_agent": userAgent.map(JSONValue.string) ?? .null]),
                                       on: connection)
            }
            throw APIError.unauthorized("wrong login or password")
        }
        throttle.recordSuccess(account: account, address: address)
        let now = Date()
        let session = OperatorSession(operatorId: user.id, role: user.role, address: address.map { String($0.prefix(64)) },
                                      userAgent: userAgent, createdAt: now,
                                      expiresAt: now.addingTimeInterval(Double(tokens.lifetime.components.seconds)))
        try await repositories.context.transaction { connection in
            guard var current = try await repositories.operators.find(id: user.id, on: connection) else { throw APIError.unauthorized("wrong login or password") }
            current.lastLoginAt = now
            _ = try await repositories.operators.update(current, on: connection)
            _ = try await repositories.operatorSessions.insert(session, on: connection)
            try await audit.record("login", entityType: "OperatorSession", entityId: session.id, operatorId: user.id, context: context,
                                   details: .object(["user_agent": userAgent.map(JSONValue.string) ?? .null]), on: connection)
        }
        let principal = Principal(operatorId: user.id, login: user.login, role: user.role.rawValue, sessionId: session.id)
        let token = try await tokens.issue(for: principal, now: now)
        metrics.recordLogin(outcome: "success")
        context.logger.info("login", metadata: ["login": .string(account), "session": .string(session.id.uuidString.lowercased())])
        return try APIResponse.json(Answer(accessToken: token, expiresIn: Int(tokens.lifetime.components.seconds), role: principal.role))
    }

    /// Ends the caller's own session: its token (and any WebSocket opened with it) stops working.
    public func logout(_ request: Request, context: StamRequestContext) async throws -> Response {
        guard let principal = context.principal, let id = principal.sessionId else { throw APIError.unauthorized("a bearer token is required") }
        try await OperatorSessionRevocation(repositories: repositories, sessions: sessions)
            .revoke(id, reason: "logout", principal: principal, context: context)
        return Response(status: .noContent)
    }

    func findOperator(login: String) async throws -> Operator? {
        let context = repositories.context
        let rows = try await context.client.query("SELECT id FROM operators WHERE login = \(login)", logger: context.logger).collect()
        guard let id = try rows.first?.decode(UUID.self) else { return nil }
        return try await repositories.operators.find(id: id)
    }

    /// The client's `User-Agent`, without control characters, cut to the column's 200 characters.
    static func userAgent(of request: Request) -> String? {
        guard let value = request.headers[.userAgent] else { return nil }
        let clean = String(String.UnicodeScalarView(value.unicodeScalars.filter { $0.properties.generalCategory != .control }))
        return clean.isEmpty ? nil : String(clean.prefix(200))
    }
}
