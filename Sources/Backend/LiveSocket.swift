import APISupport
import Foundation
import HummingbirdWebSocket
import Logging
import StamCore

/// One console's WebSocket on `/ws`.
///
/// Protocol (JSON text messages): the client authenticates with `Authorization: Bearer` on the upgrade or
/// with a first message `{"type": "auth", "token": "..."}` within 10 s (browsers cannot set headers on a
/// WebSocket); the server answers `{"type": "ready", "login": ..., "role": ...}`. Then
/// `{"type": "subscribe", "all": true}` or `{"type": "subscribe", "panels": [ids], "sites": [ids], "alarms": true}`
/// replaces the subscription; the server sends `{"type": "snapshot", "panel_id": ..., "state": {...}}` for each
/// subscribed panel (from Redis) and then `{"type": "event", ...}` messages. `{"type": "ping"}` -> `pong`.
/// `ready` carries `"feed": "live"|"interrupted"`; `{"type": "feed", "state": ...}` says when that changes, and
/// `{"type": "resync", "reason": "reconnected"|"gap"}` that events may have been missed: re-read and subscribe again.
/// Bad messages get `{"type": "error", ...}` and are counted; the connection stays.
///
/// A connection lives only as long as its token: every `sessionRecheck` it checks the token's expiry and (with
/// a `SessionVerifier`) its session, and on expiry, logout, revocation or a change of the operator it sends
/// `{"type": "error", "code": "session_ended", ...}` and closes (policy violation). Pings do not extend it.
public struct LiveSocket: Sendable {
    let hub: LiveHub
    let tokens: TokenService
    let sessions: SessionVerifier?
    let state: (any LiveStateSource)?
    let authenticationTimeout: Duration
    let sessionRecheck: Duration

    public init(hub: LiveHub, tokens: TokenService, sessions: SessionVerifier?, state: (any LiveStateSource)?,
                authenticationTimeout: Duration = .seconds(10), sessionRecheck: Duration = .seconds(2)) {
        self.hub = hub
        self.tokens = tokens
        self.sessions = sessions
        self.state = state
        self.authenticationTimeout = authenticationTimeout
        self.sessionRecheck = sessionRecheck
    }

    public func handle(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, headerToken: String?, logger: Logger) async throws {
        var messages = inbound.messages(maxSize: 64 * 1024).makeAsyncIterator()
        let principal: Principal
        do {
            principal = try await authenticate(headerToken: headerToken, messages: &messages, outbound: outbound)
        } catch let error as APIError {
            try? await outbound.write(.text(LiveMessages.error("unauthorized", error.message)))
            try? await outbound.close(.policyViolation, reason: "unauthorized")
            return
        }
        try await outbound.write(.text(LiveMessages.text(.object([
            "type": .string("ready"), "login": .string(principal.login), "role": .string(principal.role),
            "feed": .string(hub.isFeedLive ? "live" : "interrupted"),
        ]))))
        let (id, queue) = hub.connect()
        defer { hub.disconnect(id) }
        var logger = logger
        logger[metadataKey: "operator"] = .string(principal.login)
        let connectionLogger = logger
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                while true {
                    try await Task.sleep(for: sessionRecheck)
                    guard let reason = await ended(principal) else { continue }
                    connectionLogger.notice("live connection closed: session ended", metadata: ["reason": .string(reason)])
                    try? await outbound.write(.text(LiveMessages.error("session_ended", reason)))
                    try await outbound.close(.policyViolation, reason: "session ended")
                    return
                }
            }
            group.addTask {
                for await message in queue { try await outbound.write(.text(message)) }
                // The hub ended the queue: this client fell too far behind. Closing ends the reader below.
                try await outbound.close(.policyViolation, reason: "too slow; reconnect and reload")
            }
            while let message = try await messages.next() {
                guard case .text(let text) = message else {
                    hub.send(id, LiveMessages.error("bad_message", "send JSON text messages"))
                    continue
                }
                await handle(text, client: id, logger: logger)
            }
            group.cancelAll()
        }
    }

    private func authenticate(headerToken: String?, messages: inout WebSocketInboundMessageStream.AsyncIterator,
                              outbound: WebSocketOutboundWriter) async throws -> Principal {
        if let headerToken { return try await verified(headerToken) }
        let timeout = authenticationTimeout
        let first: WebSocketMessage? = try await withThrowingTaskGroup(of: Void.self) { group in
            // A silent client is closed after the timeout, which ends the read below.
            group.addTask {
                try await Task.sleep(for: timeout)
                try await outbound.close(.policyViolation, reason: "no auth message within \(timeout)")
            }
            let first = try await messages.next()
            group.cancelAll()
            return first
        }
        guard case .text(let text)? = first, case .object(let fields)? = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)),
              fields["type"] == .string("auth"), case .string(let token)? = fields["token"] else {
            throw APIError.unauthorized("the first message must be {\"type\": \"auth\", \"token\": ...}")
        }
        return try await verified(token)
    }

    private func verified(_ token: String) async throws -> Principal {
        let principal = try await tokens.verify(token)
        try await sessions?.check(principal)
        return principal
    }

    /// Why the connection must end now, or nil. A session store that cannot answer (503) keeps it open: a
    /// database failover must not disconnect every console.
    func ended(_ principal: Principal) async -> String? {
        if let expires = principal.expiresAt, expires <= Date() { return "the token expired" }
        return try? await sessions?.refusal(of: principal)
    }

    private func handle(_ text: String, client id: UUID, logger: Logger) async {
        guard case .object(let fields)? = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)),
              case .string(let type)? = fields["type"] else {
            hub.send(id, LiveMessages.error("bad_message", "expected a JSON object with a type"))
            return
        }
        switch type {
        case "ping":
            hub.send(id, LiveMessages.text(.object(["type": .string("pong")])))
        case "subscribe":
            func ids(_ key: String) -> Set<UUID>? {
                guard let value = fields[key] else { return [] }
                guard case .array(let items) = value else { return nil }
                let parsed = items.compactMap { item -> UUID? in if case .string(let text) = item { UUID(uuidString: text) } else { nil } }
                return parsed.count == items.count ? Set(parsed) : nil
            }
            guard let panels = ids("panels"), let sites = ids("sites") else {
                hub.send(id, LiveMessages.error("bad_subscription", "panels and sites must be lists of ids"))
                return
            }
            let subscription = LiveSubscription(everything: fields["all"] == .bool(true), panels: panels, sites: sites,
                                                alarms: fields["alarms"] == .bool(true))
            hub.subscribe(id, to: subscription)
            hub.send(id, LiveMessages.text(.object(["type": .string("subscribed")])))
            guard let state else { return }
            for panel in panels.sorted(by: { $0.uuidString < $1.uuidString }) {
                do {
                    // The hash's fields as they are (the console parses the JSON ones), read through the contract first:
                    // a hash that is not a panel's live state is refused here, not passed on to the console. A panel no
                    // worker has written yet gets an empty state.
                    let fields = try await state.state(ofPanel: panel)?.hashFields ?? []
                    hub.send(id, LiveMessages.text(.object([
                        "type": .string("snapshot"), "panel_id": .string(panel.uuidString.lowercased()),
                        "state": .object(Dictionary(uniqueKeysWithValues: fields.map { ($0.0, .string($0.1)) })),
                    ])))
                } catch {
                    logger.warning("no live state for a snapshot", metadata: ["panel": "\(panel)", "error": "\(error)"])
                    hub.send(id, LiveMessages.error("snapshot_unavailable", "live state of \(panel.uuidString.lowercased()) is unavailable"))
                }
            }
        default:
            hub.send(id, LiveMessages.error("bad_message", "unknown type '\(type)'"))
        }
    }
}
