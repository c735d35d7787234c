import Foundation
import Messaging
import StamCore

/// The events the live feed may pass to consoles: those the schema declares (`StamSchema.eventTypes`). A
/// delivery is forwarded only when its `type` names one of them, its exchange and routing key are that
/// event's, and its body decodes as that event; anything else on the queue (a service publishing what it
/// should not, a stale producer, a hand-made message) is refused, counted and logged, never shown.
public struct LiveEventCatalog: Sendable {
    /// Why a delivery was not forwarded: the `reason` label of `stam_live_events_refused_total`.
    public enum Refusal: String, Error, Sendable, CaseIterable {
        /// No `type` property, or one the schema does not declare.
        case unknownType = "unknown_type"
        /// A declared type on another exchange or routing key than the schema gives it.
        case wrongRoute = "wrong_route"
        /// The body is not that event (not JSON, a field missing or of the wrong type).
        case malformed
    }

    let types: [String: any OutboxEvent.Type]

    public init(_ types: [any OutboxEvent.Type]) {
        self.types = Dictionary(types.map { ($0.eventName, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The same dates the relay's outbox encoder writes.
    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()

    public func event(from delivery: Delivery) -> Result<LiveEvent, Refusal> {
        guard let name = delivery.type, let type = types[name] else { return .failure(.unknownType) }
        guard delivery.exchange == type.exchange, delivery.routingKey == type.routingKey else { return .failure(.wrongRoute) }
        let data = Data(delivery.body)
        guard let event = try? Self.decoder.decode(type, from: data),
              let payload = try? JSONDecoder().decode(JSONValue.self, from: data) else { return .failure(.malformed) }
        return .success(LiveEvent(name: name, routingKey: delivery.routingKey, scope: event.scope, payload: payload))
    }
}
