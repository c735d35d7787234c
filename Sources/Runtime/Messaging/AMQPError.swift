/// A failure talking to RabbitMQ, with rabbitmq-c's status code or the broker's reply code.
public struct AMQPError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case connect
        case login
        case channel
        case protocolError = "protocol"
        case brokerClosed = "broker_closed"
        case timeout
        /// Two heartbeat intervals without a byte from the broker: it hangs, or the link to it is gone.
        case heartbeatTimeout = "heartbeat_timeout"
        case nacked
        case disconnected
    }

    public var code: Code
    public var message: String
    /// rabbitmq-c status (negative) or AMQP reply code (e.g. 404 NOT_FOUND, 406 PRECONDITION_FAILED).
    public var status: Int

    public init(code: Code, message: String, status: Int = 0) {
        self.code = code
        self.message = message
        self.status = status
    }

    public var description: String { "amqp \(code.rawValue)\(status == 0 ? "" : " (\(status))"): \(message)" }
}
