import Foundation
import StamCore

/// One domain event on its way to consoles: what the relay published to the events exchange.
public struct LiveEvent: Sendable, Hashable {
    public var name: String
    public var routingKey: String
    public var payload: JSONValue

    public init(name: String, routingKey: String, payload: JSONValue) {
        self.name = name
        self.routingKey = routingKey
        self.payload = payload
    }

    func uuid(_ key: String) -> UUID? {
        guard case .object(let fields) = payload, case .string(let text)? = fields[key] else { return nil }
        return UUID(uuidString: text)
    }

    var panelId: UUID? { uuid("panel_id") }
    var siteId: UUID? { uuid("site_id") }
    var isAlarm: Bool { routingKey.hasPrefix("alarm.") }

    /// `{"type": "event", "name": ..., "routing_key": ..., "payload": {...}}`.
    var message: String {
        let object = JSONValue.object(["type": .string("event"), "name": .string(name), "routing_key": .string(routingKey), "payload": payload])
        return LiveMessages.text(object)
    }
}

enum LiveMessages {
    static func text(_ value: JSONValue) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? "{}"
    }

    static func error(_ code: String, _ message: String) -> String {
        text(.object(["type": .string("error"), "code": .string(code), "message": .string(message)]))
    }
}
