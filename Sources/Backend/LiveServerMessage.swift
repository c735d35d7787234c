import Foundation
import StamCore

/// A message the backend sends a console on `/ws`: one case per message the protocol has (`LiveSocket`), each
/// encoded as a JSON object whose `type` names it. `console.js` reads exactly these.
enum LiveServerMessage: Encodable, Sendable {
    /// Whether the live feed from RabbitMQ is connected.
    enum FeedState: String, Encodable, Sendable {
        case live, interrupted
    }

    case ready(login: String, role: String, feed: FeedState)
    case subscribed
    /// A panel's live state as the worker keeps it in Redis, each field as stored.
    case snapshot(panelId: UUID, state: [String: String])
    /// A domain event, its payload as published.
    case event(name: String, routingKey: String, payload: JSONValue)
    case feed(FeedState)
    /// Events may have been missed (`LiveHub.ResyncReason`): re-read and subscribe again.
    case resync(reason: String)
    case pong
    case error(code: String, message: String)

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        func put<Value: Encodable>(_ value: Value, _ key: String) throws { try container.encode(value, forKey: Key(key)) }
        switch self {
        case .ready(let login, let role, let feed):
            try put("ready", "type"); try put(login, "login"); try put(role, "role"); try put(feed, "feed")
        case .subscribed:
            try put("subscribed", "type")
        case .snapshot(let panelId, let state):
            try put("snapshot", "type"); try put(panelId.uuidString.lowercased(), "panel_id"); try put(state, "state")
        case .event(let name, let routingKey, let payload):
            try put("event", "type"); try put(name, "name"); try put(routingKey, "routing_key"); try put(payload, "payload")
        case .feed(let state):
            try put("feed", "type"); try put(state, "state")
        case .resync(let reason):
            try put("resync", "type"); try put(reason, "reason")
        case .pong:
            try put("pong", "type")
        case .error(let code, let message):
            try put("error", "type"); try put(code, "code"); try put(message, "message")
        }
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// The message as the WebSocket text frame carries it.
    var text: String {
        // Encoding strings, UUIDs and JSON values cannot fail.
        (try? String(decoding: Self.encoder.encode(self), as: UTF8.self)) ?? #"{"type":"error","code":"internal","message":"unencodable"}"#
    }
}
