import Hummingbird

/// Verifies `Authorization: Bearer <token>` and sets `context.principal`. A request without a valid token
/// is refused with 401 here, so a route that forgets its role check still cannot be reached anonymously.
public struct AuthenticationMiddleware: RouterMiddleware {
    public typealias Context = StamRequestContext

    let tokens: TokenService

    public init(tokens: TokenService) { self.tokens = tokens }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else { throw APIError.unauthorized("a bearer token is required") }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw APIError.unauthorized("expected 'Authorization: Bearer <token>'") }
        var context = context
        let principal = try await tokens.verify(String(parts[1]))
        context.principal = principal
        context.logger[metadataKey: "operator"] = .string(principal.login)
        return try await next(request, context)
    }
}
