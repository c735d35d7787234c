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

    public init(name: String, location: SourceLocation, kind: Kind) {
        self.name = name
        self.location = location
        self.kind = kind
    }
}
