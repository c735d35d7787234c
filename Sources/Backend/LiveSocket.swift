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
            try? await outbound.write(.text(LiveServerMessage.error(code: "unauthorized", message: error.message).text))
            try? await outbound.close(.policyViolation, reason: "unauthorized")
            return
        }
        try await outbound.write(.text(LiveServerMessage.ready(login: principal.login, role: principal.role,
                                                               feed: hub.isFeedLive ? .live : .interrupted).text))
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
                    try? await outbound.write(.text(LiveServerMessage.error(code: "session_ended", message: reason).text))
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
                    hub.send(id, LiveServerMessage.error(code: "bad_message", message: "send JSON text messages").text)
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
        guard case .text(let text)? = first, case .auth(let token)? = try? LiveClientMessage.decode(text) else {
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
        let message: LiveClientMessage
        do {
            message = try LiveClientMessage.decode(text)
        } catch {
            hub.send(id, LiveServerMessage.error(code: error.code, message: error.message).text)
            return
        }
        switch message {
        case .ping:
            hub.send(id, LiveServerMessage.pong.text)
        case .auth:
            hub.send(id, LiveServerMessage.error(code: "bad_message", message: "already authenticated").text)
        case .subscribe(let subscription):
            hub.subscribe(id, to: subscription)
            hub.send(id, LiveServerMessage.subscribed.text)
            guard let state else { return }
            for panel in subscription.panels.sorted(by: { $0.uuidString < $1.uuidString }) {
                do {
                    // The hash's fields as they are (the console parses the JSON ones), read through the contract first:
                    // a hash that is not a panel's live state is refused here, not passed on to the console. A panel no
                    // worker has written yet gets an empty state.
                    let fields = try await state.state(ofPanel: panel)?.hashFields ?? []
                    hub.send(id, LiveServerMessage.snapshot(panelId: panel, state: Dictionary(fields, uniquingKeysWith: { _, last in last })).text)
                } catch {
                    logger.warning("no live state for a snapshot", metadata: ["panel": "\(panel)", "error": "\(error)"])
                    hub.send(id, LiveServerMessage.error(code: "snapshot_unavailable",
                                                         message: "live state of \(panel.uuidString.lowercased()) is unavailable").text)
                }
            }
        }
    }
}
