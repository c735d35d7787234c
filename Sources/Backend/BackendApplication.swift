import APISupport
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore

/// The backend's HTTP server: the router plus the WebSocket upgrade on `/ws` (path only; the token comes in
/// the `Authorization` header or the first message, never in the URL where logs would keep it).
public enum BackendApplication {
    /// Longer than nginx's upstream keepalive (60 s), so nginx, not the backend, closes an idle kept-alive
    /// connection: a close from this side racing nginx's next request would fail that request with a 502.
    static let idleTimeout: TimeAmount = .seconds(120)

    /// - Parameter firstRequestTimeout: a connection's first request head not complete by then is answered 408 and
    ///   closed (`FirstRequestGuard`); nginx sends whole heads, so only a client talking to the backend directly waits.
    public static func make(router: Router<StamRequestContext>, live: LiveSocket?, host: String, port: Int,
                            metrics: BackendMetrics? = nil, firstRequestTimeout: TimeAmount = .seconds(30),
                            logger: Logger) -> some ApplicationProtocol {
        let upgrade = HTTPServerBuilder { responder in
            BackendServerChannel(
                upgrade: HTTP1WebSocketUpgradeChannel(
                    responder: responder,
                    configuration: .init(http1: .init(idleTimeout: idleTimeout)),
                    shouldUpgrade: { request, _, logger in
                        guard let live, request.path?.split(separator: "?").first == "/ws" else { return .dontUpgrade }
                        let header = request.headerFields[.authorization].flatMap { value -> String? in
                            let parts = value.split(separator: " ", maxSplits: 1)
                            return parts.count == 2 && parts[0].lowercased() == "bearer" ? String(parts[1]) : nil
                        }
                        return .upgrade([:]) { inbound, outbound, _ in
                            try await live.handle(inbound: inbound, outbound: outbound, headerToken: header, logger: logger)
                        }
                    }),
                firstRequestTimeout: firstRequestTimeout,
                onRejected: { rejection in metrics?.recordRejectedRequest(rejection) })
        }
        return Application(
            router: router,
            server: upgrade,
            configuration: .init(address: .hostname(host, port: port), serverName: "stam-backend"),
            logger: logger)
    }
}
