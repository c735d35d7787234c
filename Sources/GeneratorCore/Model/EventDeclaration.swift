/// A domain event: written to the outbox with the change it describes, published to `exchange` with
/// `routingKey`. Events of one aggregate are delivered in the order they were written.
public struct EventDeclaration: Hashable, Sendable {
    public var name: String
    public var location: SourceLocation
    public var doc: String?
    public var aggregate: Located<String>
    /// The payload field carrying the aggregate's id.
    public var aggregateField: Located<String>
    public var routingKey: Located<String>
    public var exchange: Located<String>
    public var version: Int
    public var payload: [FieldDeclaration]

    public init(
        name: String, location: SourceLocation, doc: String?, aggregate: Located<String>,
        aggregateField: Located<String>, routingKey: Located<String>, exchange: Located<String>,
        version: Int, payload: [FieldDeclaration]
    ) {
        self.name = name
        self.location = location
        self.doc = doc
        self.aggregate = aggregate
        self.aggregateField = aggregateField
        self.routingKey = routingKey
        self.exchange = exchange
        self.version = version
        self.payload = payload
    }
}
