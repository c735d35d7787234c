import Foundation
import Messaging

/// Where and how the agent publishes a message. The routing facts come from the generated `SmsReceived`
/// event (the `stam` binary passes them in: the runtime never imports generated code); the body carries
/// the same keys as that event's payload.
public struct SmsPublication: Sendable, Hashable {
    public var exchange: String
    public var routingKey: String
    public var eventName: String
    public var schemaVersion: Int

    public init(exchange: String, routingKey: String, eventName: String, schemaVersion: Int) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.eventName = eventName
        self.schemaVersion = schemaVersion
    }

    struct Payload: Encodable {
        var smsId: UUID
        var sender: String
        /// `SmsAddress.Kind`: the consumer attributes only numbers, never a name that anyone can send as.
        var senderKind: String?
        var body: String
        var sentAt: Date
        var receivedAt: Date
        var complete: Bool
        var partsExpected: Int
        var partsReceived: Int

        enum CodingKeys: String, CodingKey {
            case smsId = "sms_id", sender, senderKind = "sender_kind", body, sentAt = "sent_at", receivedAt = "received_at", complete
            case partsExpected = "parts_expected", partsReceived = "parts_received"
        }
    }

    /// ISO 8601 dates and sorted keys, like the outbox's payloads.
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    public func message(for sms: ReceivedSms, receivedAt: Date) throws -> OutgoingMessage {
        let payload = Payload(smsId: sms.id, sender: sms.sender, senderKind: sms.senderKind?.rawValue, body: sms.text, sentAt: sms.sentAt, receivedAt: receivedAt,
                              complete: sms.complete, partsExpected: sms.partsExpected, partsReceived: sms.partsReceived)
        return OutgoingMessage(
            exchange: exchange, routingKey: routingKey, messageId: sms.id.uuidString.lowercased(), type: eventName,
            timestamp: receivedAt,
            headers: ["x-aggregate-type": "SmsMessage", "x-aggregate-id": sms.id.uuidString.lowercased(),
                      "x-event-version": String(schemaVersion), "x-sms-pdus": sms.pdus.joined(separator: ",")],
            body: Array(try Self.encoder.encode(payload)))
    }
}
