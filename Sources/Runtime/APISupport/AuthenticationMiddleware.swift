import Hummingbird

/// Verifies `Authorization: Bearer <token>` and sets `context.principal`. A request without a valid token
/// is refused with 401 here, so a route that forgets its role check still cannot be reached anonymously. With a
/// `SessionVerifier` (the backend always has one) the token's session must also still be valid: logout,
/// revocation, deactivation, a role or password change end a token before it expires.
public struct AuthenticationMiddleware: RouterMiddleware {
    public typealias Context = StamRequestContext

    let tokens: TokenService
    let sessions: SessionVerifier?

    public init(tokens: TokenService, sessions: SessionVerifier?) {
        self.tokens = tokens
        self.sessions = sessions
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else { throw APIError.unauthorized("a bearer token is required") }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw APIError.unauthorized("expected 'Authorization: Bearer <token>'") }
        var context = context
        let principal = try await tokens.verify(String(parts[1]))
        try await sessions?.check(principal)
        context.principal = principal
        context.logger[metadataKey: "operator"] = .string(principal.login)
        return try await next(request, context)
    }
}
