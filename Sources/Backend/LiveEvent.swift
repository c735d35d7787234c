import Foundation
import StamCore

/// One domain event on its way to consoles: what the relay published to the events exchange, decoded as its
/// generated type (`LiveEventCatalog`), which says where it belongs.
public struct LiveEvent: Sendable, Hashable {
    public var name: String
    public var routingKey: String
    /// The site and panel of the decoded event (`OutboxEvent.scope`): what subscriptions filter on.
    public var scope: EventScope
    /// The body as published, forwarded to consoles unchanged.
    public var payload: JSONValue

    public init(name: String, routingKey: String, scope: EventScope, payload: JSONValue) {
        self.name = name
        self.routingKey = routingKey
        self.scope = scope
        self.payload = payload
    }

    var isAlarm: Bool { routingKey.hasPrefix("alarm.") }

    var message: String { LiveServerMessage.event(name: name, routingKey: routingKey, payload: payload).text }
}
