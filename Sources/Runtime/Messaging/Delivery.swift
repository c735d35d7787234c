import CRabbitMQ
import Foundation

/// A message received from a queue, copied out of rabbitmq-c's buffers.
public struct Delivery: Sendable, Hashable {
    public var deliveryTag: UInt64
    public var redelivered: Bool
    public var exchange: String
    public var routingKey: String
    public var messageId: String?
    public var type: String?
    public var headers: [String: String]
    /// Quorum queues count deliveries in `x-delivery-count` (absent on the first delivery).
    public var deliveryCount: Int
    public var body: [UInt8]
    /// Which connection delivered it: a tag is only valid on that connection.
    var connectionGeneration = 0

    init(envelope: amqp_envelope_t) {
        deliveryTag = envelope.delivery_tag
        redelivered = envelope.redelivered != 0
        exchange = AMQPArena.string(envelope.exchange)
        routingKey = AMQPArena.string(envelope.routing_key)
        let properties = envelope.message.properties
        let flags = properties._flags
        messageId = flags & amqp_flags_t(AMQP_BASIC_MESSAGE_ID_FLAG) != 0 ? AMQPArena.string(properties.message_id) : nil
        type = flags & amqp_flags_t(AMQP_BASIC_TYPE_FLAG) != 0 ? AMQPArena.string(properties.type) : nil
        var headers: [String: String] = [:]
        var count = 0
        if flags & amqp_flags_t(AMQP_BASIC_HEADERS_FLAG) != 0, let entries = properties.headers.entries {
            for index in 0..<Int(properties.headers.num_entries) {
                let entry = entries[index]
                let key = AMQPArena.string(entry.key)
                switch entry.value.kind {
                case UInt8(AMQP_FIELD_KIND_UTF8.rawValue), UInt8(AMQP_FIELD_KIND_BYTES.rawValue):
                    headers[key] = AMQPArena.string(entry.value.value.bytes)
                case UInt8(AMQP_FIELD_KIND_I64.rawValue):
                    headers[key] = String(entry.value.value.i64)
                    if key == "x-delivery-count" { count = Int(entry.value.value.i64) }
                case UInt8(AMQP_FIELD_KIND_I32.rawValue):
                    headers[key] = String(entry.value.value.i32)
                    if key == "x-delivery-count" { count = Int(entry.value.value.i32) }
                default:
                    continue
                }
            }
        }
        self.headers = headers
        deliveryCount = count
        if let pointer = envelope.message.body.bytes, envelope.message.body.len > 0 {
            body = Array(UnsafeRawBufferPointer(start: pointer, count: envelope.message.body.len))
        } else {
            body = []
        }
    }
}
