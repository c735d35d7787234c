/// A RabbitMQ exchange.
public struct ExchangeDeclaration: Hashable, Sendable {
    public enum Kind: String, CaseIterable, Hashable, Sendable { case topic, direct, fanout, headers }

    public var name: String
    public var location: SourceLocation
    public var doc: String?
    public var kind: Kind

    public init(name: String, location: SourceLocation, doc: String? = nil, kind: Kind) {
        self.name = name
        self.location = location
        self.doc = doc
        self.kind = kind
    }
}
