import APISupport
import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging

/// The backend's HTTP server: the router plus the WebSocket upgrade on `/ws` (path only; the token comes in
/// the `Authorization` header or the first message, never in the URL where logs would keep it).
public enum BackendApplication {
    public static func make(router: Router<StamRequestContext>, live: LiveSocket?, host: String, port: Int,
                            logger: Logger) -> some ApplicationProtocol {
        Application(
            router: router,
            server: .http1WebSocketUpgrade { request, _, logger in
                guard let live, request.path?.split(separator: "?").first == "/ws" else { return .dontUpgrade }
                let header = request.headerFields[.authorization].flatMap { value -> String? in
                    let parts = value.split(separator: " ", maxSplits: 1)
                    return parts.count == 2 && parts[0].lowercased() == "bearer" ? String(parts[1]) : nil
                }
                return .upgrade([:]) { inbound, outbound, _ in
                    try await live.handle(inbound: inbound, outbound: outbound, headerToken: header, logger: logger)
                }
            },
            configuration: .init(address: .hostname(host, port: port), serverName: "stam-backend"),
            logger: logger)
    }
}
