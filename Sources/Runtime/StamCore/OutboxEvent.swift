import Foundation

/// A generated domain event payload. The outbox writes it with these routing facts; consumers decode it
/// by `eventName` and `schemaVersion`.
public protocol OutboxEvent: Sendable, Codable, Hashable {
    static var eventName: String { get }
    /// The entity whose id orders these events.
    static var aggregateType: String { get }
    static var exchange: String { get }
    static var routingKey: String { get }
    static var schemaVersion: Int { get }
    var aggregateId: UUID { get }
    /// The site and panel it is about, for subscriptions (`EventScope`).
    var scope: EventScope { get }
}
