/// A closed set of values, e.g. `AlarmState: [new, acknowledged, in_progress, closed]`. Stored as checked
/// text in PostgreSQL (a CHECK constraint is easy to widen in a migration; an ENUM type is not).
public struct EnumDeclaration: Hashable, Sendable {
    public var name: String
    public var location: SourceLocation
    public var doc: String?
    public var values: [Located<String>]

    public init(name: String, location: SourceLocation, doc: String? = nil, values: [Located<String>]) {
        self.name = name
        self.location = location
        self.doc = doc
        self.values = values
    }
}
