import Foundation
import HummingbirdWSClient
import Logging
import NIOCore
import NIOSSL
import Synchronization

/// An operator console's WebSocket as a test sees it: every message it received, and a bounded wait for one.
final class LiveConsole: Sendable {
    /// Raw texts: JSON objects are not Sendable, so they are parsed when looked at.
    private let received = Mutex<[String]>([])
    private let outbound: WebSocketOutboundWriter

    init(outbound: WebSocketOutboundWriter) { self.outbound = outbound }

    func append(_ text: String) {
        received.withLock { $0.append(text) }
    }

    func send(_ text: String) async throws { try await outbound.write(.text(text)) }

    /// The first message (already received or arriving within `timeout`) that `matches`.
    func waitFor(_ what: String, timeout: Duration = .seconds(30), _ matches: ([String: Any]) -> Bool) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let all = received.withLock { $0 }.compactMap { text in
                (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
            }
            if let found = all.first(where: matches) { return found }
            guard ContinuousClock.now < deadline else {
                throw EndToEndFailure(description: "no \(what) within \(timeout); received: \(all.map { "\($0["type"] ?? "?")/\($0["name"] ?? "")" })")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// An event message named `name` whose payload passes `matches`.
    func event(_ name: String, timeout: Duration = .seconds(30), _ matches: ([String: Any]) -> Bool = { _ in true }) async throws -> [String: Any] {
        let message = try await waitFor(name, timeout: timeout) { message in
            message["type"] as? String == "event" && message["name"] as? String == name
                && matches(message["payload"] as? [String: Any] ?? [:])
        }
        return message["payload"] as? [String: Any] ?? [:]
    }

    /// Connects, authenticates with `token` in the first message and runs `body` while messages are collected.
    /// - Parameters:
    ///   - tls: for `wss://` through nginx.
    ///   - serverName: the name the certificate must show when `url` dials an address (sent as SNI).
    static func connect(url: String, token: String, tls: TLSConfiguration? = nil, serverName: String? = nil, logger: Logger,
                        _ body: @escaping @Sendable (LiveConsole) async throws -> Void) async throws {
        try await WebSocketClient.connect(url: url, configuration: .init(sniHostname: serverName), tlsConfiguration: tls,
                                          logger: logger) { inbound, outbound, _ in
            let console = LiveConsole(outbound: outbound)
            try await outbound.write(.text(#"{"type":"auth","token":"\#(token)"}"#))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        if case .text(let text) = message { console.append(text) }
                    }
                }
                try await body(console)
                try await outbound.close(.normalClosure, reason: nil)
                group.cancelAll()
            }
        }
    }
}

/// Why an end-to-end step failed, with what was seen (logs, messages) to explain it.
struct EndToEndFailure: Error, CustomStringConvertible {
    var description: String
}
