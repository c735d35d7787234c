/// The order of one publisher connection's messages to one exchange, stamped on each message so a consumer of a
/// queue that should receive all of them can tell a gap (a queue that expired or overflowed, a message the broker
/// lost) from a duplicate (a redelivery after a reconnect). RabbitMQ keeps the publish order of one channel in
/// each queue, so within one stream the numbers arrive in order, each once, unless something was lost.
public enum PublishStream {
    /// A new value per publisher connection (a reconnect starts a new stream at 1).
    public static let streamHeader = "x-stream"
    /// 1, 2, 3, ... per stream and exchange.
    public static let sequenceHeader = "x-stream-seq"

    /// The stream and position a delivery carries; nil for a message published without them.
    public static func position(of delivery: Delivery) -> (stream: String, sequence: UInt64)? {
        guard let stream = delivery.headers[streamHeader], let sequence = delivery.headers[sequenceHeader].flatMap(UInt64.init) else {
            return nil
        }
        return (stream, sequence)
    }
}
