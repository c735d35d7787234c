import Foundation

/// A persistent message to publish: the outbox row's id is its `messageId`, the event name its `type`.
public struct OutgoingMessage: Sendable, Hashable {
    public var exchange: String
    public var routingKey: String
    public var messageId: String
    public var type: String
    public var timestamp: Date
    public var correlationId: String?
    public var headers: [String: String]
    public var body: [UInt8]

    public init(exchange: String, routingKey: String, messageId: String, type: String, timestamp: Date,
                correlationId: String? = nil, headers: [String: String] = [:], body: [UInt8]) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.messageId = messageId
        self.type = type
        self.timestamp = timestamp
        self.correlationId = correlationId
        self.headers = headers
        self.body = body
    }
}
