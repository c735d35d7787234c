/// An entity: one table, one Swift model, and (when it has an `api:` section) one set of routes.
public struct EntityDeclaration: Hashable, Sendable {
    public var name: String
    public var location: SourceLocation
    public var doc: String?
    /// The table name: `table:` when given, else the snake-case plural of the name.
    public var table: Located<String>
    public var fields: [FieldDeclaration] = []
    public var indexes: [IndexDeclaration] = []
    public var api: APIDeclaration?
    public var actions: [ActionDeclaration] = []
    /// `append_only: true`: rows are never changed or removed; the database refuses UPDATE and DELETE (a trigger),
    /// whoever asks.
    public var appendOnly = false
    /// `at_least_one:` rows that must never all be gone (the last active admin); the database refuses the write
    /// that would leave none, under a lock, so two concurrent writes cannot both pass.
    public var atLeastOne: AtLeastOneDeclaration?
    /// Some field could not be loaded (already reported); checks that need every field are skipped so one
    /// typo does not cascade into more errors.
    public var incomplete = false

    public init(name: String, location: SourceLocation, table: Located<String>) {
        self.name = name
        self.location = location
        self.table = table
    }

    public var primaryKey: FieldDeclaration? { fields.first { $0.primary } }
    public func field(named name: String) -> FieldDeclaration? { fields.first { $0.name == name } }
}
