/// A RabbitMQ queue and its bindings.
public struct QueueDeclaration: Hashable, Sendable {
    public enum Kind: String, CaseIterable, Hashable, Sendable { case quorum, classic }

    /// `exchange:routing_key`.
    public struct Binding: Hashable, Sendable {
        public var exchange: Located<String>
        public var routingKey: String

        public init(exchange: Located<String>, routingKey: String) {
            self.exchange = exchange
            self.routingKey = routingKey
        }
    }

    public var name: String
    public var location: SourceLocation
    public var doc: String?
    public var kind: Kind
    public var bindings: [Binding] = []
    public var deadLetterExchange: Located<String>?
    public var deliveryLimit: Int?
    /// One queue per instance of the consuming service (named `<name>.<instance>`), e.g. a backend's live feed.
    public var perInstance = false
    public var expiresMilliseconds: Int?
    public var maxLength: Int?
    /// `limit: { messages, overflow }`: a bound the deployment's broker applies as a policy (changeable without
    /// declaring the queue again), and the backlog alert's scale.
    public var limit: Limit?

    public struct Limit: Hashable, Sendable {
        /// What a full queue does with the next message: refuse it (the publisher's confirm fails and it keeps the
        /// message: an outbox row, an SMS on the SIM) or drop the oldest.
        public enum Overflow: String, CaseIterable, Hashable, Sendable {
            case rejectPublish = "reject-publish", dropHead = "drop-head"
        }

        public var messages: Located<Int>
        public var overflow: Overflow

        public init(messages: Located<Int>, overflow: Overflow) {
            self.messages = messages
            self.overflow = overflow
        }
    }

    public init(name: String, location: SourceLocation, kind: Kind) {
        self.name = name
        self.location = location
        self.kind = kind
    }
}
