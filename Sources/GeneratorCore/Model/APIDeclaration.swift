/// The `api:` section of an entity: which roles may use which generated route, and which fields the list
/// route may filter and sort on. An operation with no roles has no route.
public struct APIDeclaration: Hashable, Sendable {
    public enum Operation: String, CaseIterable, Hashable, Sendable {
        case list, read, create, update, delete
    }

    public var location: SourceLocation
    public var roles: [Operation: [Located<String>]] = [:]
    public var filters: [Located<String>] = []
    public var sort: [Located<String>] = []

    public init(location: SourceLocation) { self.location = location }
}

/// A non-CRUD operation on an entity (acknowledge an alarm, arm a panel), handled by hand-written code.
public struct ActionDeclaration: Hashable, Sendable {
    public var name: String
    public var location: SourceLocation
    public var doc: String?
    public var roles: [Located<String>]

    public init(name: String, location: SourceLocation, doc: String? = nil, roles: [Located<String>]) {
        self.name = name
        self.location = location
        self.doc = doc
        self.roles = roles
    }
}
