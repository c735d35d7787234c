import Foundation
import PostgresNIO
import StamCore

/// The transactional outbox: an event is a row written in the same transaction as the change it describes,
/// so either both commit or neither does. Relays publish the rows afterwards (`OutboxRelay`).
public enum Outbox {
    /// The NOTIFY channel relays LISTEN on (`OutboxNotifier` sends it).
    public static let channel = "stam_outbox"

    /// Writes `event` to the outbox on `connection`, which must be inside the caller's transaction. Returns
    /// the row id, which becomes the AMQP `message_id` consumers deduplicate on. Writers use
    /// `OutboxTransaction.enqueue`, which counts the events so the relays are woken after the commit
    /// (`OutboxNotifier`; not a NOTIFY in here).
    @discardableResult
    public static func enqueue<Event: OutboxEvent>(
        _ event: Event, on connection: PostgresConnection, correlationId: String? = nil, logger: Logger
    ) async throws -> UUID {
        let id = UUID()
        let payload = String(decoding: try encoder.encode(event), as: UTF8.self)
        let headers = correlationId.map { "{\"correlation_id\": \"\($0)\"}" } ?? "{}"
        try await connection.query("""
            INSERT INTO outbox (id, aggregate_type, aggregate_id, event_name, event_version, exchange, routing_key, payload, headers)
            VALUES (\(id), \(Event.aggregateType), \(event.aggregateId), \(Event.eventName), \(Event.schemaVersion),
                    \(Event.exchange), \(Event.routingKey), \(payload)::jsonb, \(headers)::jsonb)
            """, logger: logger)
        return id
    }

    /// ISO 8601 dates and sorted keys, so a payload's bytes depend only on its content.
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()
}
