/// A closed set of values, e.g. `AlarmState: [new, acknowledged, in_progress, closed]`. Stored as checked
/// text in PostgreSQL (a CHECK constraint is easy to widen in a migration; an ENUM type is not).
public struct EnumDeclaration: Hashable, Sendable {
    public var name: String
    public var location: SourceLocation
    public var doc: String?
    public var values: [Located<String>]
    /// `renamed: { old: new }`: values an earlier schema had under another name. The migration that drops an old
    /// name rewrites the rows holding it, and the generated type still reads it (from events written before).
    public var renamed: [Rename] = []

    public struct Rename: Hashable, Sendable {
        public var old: Located<String>
        public var new: Located<String>

        public init(old: Located<String>, new: Located<String>) {
            self.old = old
            self.new = new
        }
    }

    public init(name: String, location: SourceLocation, doc: String? = nil, values: [Located<String>], renamed: [Rename] = []) {
        self.name = name
        self.location = location
        self.doc = doc
        self.values = values
        self.renamed = renamed
    }

    /// The old names that now read as `value`.
    public func oldNames(of value: String) -> [String] {
        renamed.filter { $0.new.value == value }.map(\.old.value)
    }
}
