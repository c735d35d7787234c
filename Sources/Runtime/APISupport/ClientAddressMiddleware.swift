import Hummingbird

/// Sets `context.clientAddress` from `TrustedProxies` and names it in the request's log lines (`client`).
public struct ClientAddressMiddleware: RouterMiddleware {
    public typealias Context = StamRequestContext

    let proxies: TrustedProxies

    public init(proxies: TrustedProxies) { self.proxies = proxies }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.clientAddress = proxies.clientAddress(peer: context.peerAddress, headers: request.headers)
        if let address = context.clientAddress { context.logger[metadataKey: "client"] = .string(address) }
        return try await next(request, context)
    }
}
