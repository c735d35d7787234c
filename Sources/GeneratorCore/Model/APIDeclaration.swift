/// The `api:` section of an entity: which roles may use which generated route, and which fields the list
/// route may filter and sort on. An operation with no roles has no route.
public struct APIDeclaration: Hashable, Sendable {
    public enum Operation: String, CaseIterable, Hashable, Sendable {
        case list, read, create, update, delete
    }

    public var location: SourceLocation
    public var roles: [Operation: [Located<String>]] = [:]
    public var filters: [Located<String>] = []
    /// `ranges:` fields the list route bounds: `<field>_from` (at or after, inclusive) and `<field>_to` (before,
    /// exclusive), so consecutive periods neither overlap nor leave a gap (`created_at_from=...&created_at_to=...`).
    public var ranges: [Located<String>] = []
    public var sort: [Located<String>] = []
    /// `list_cache:`: the backend keeps list answers in memory (see `ListCacheDeclaration`).
    public var listCache: ListCacheDeclaration?

    public init(location: SourceLocation) { self.location = location }
}

/// `list_cache: { max_age: 1s, invalidated_by: [AlarmRaised, ...] }` on an entity's `api:`: each backend keeps
/// the answers of the entity's list route in memory, drops them when one of the named events arrives on its
/// live feed or when any write request passes through it, and never serves one older than `max_age` (the
/// bound for changes no event announces). Many consoles re-reading the same list after the same event then
/// cost one database query instead of one each.
public struct ListCacheDeclaration: Hashable, Sendable {
    public var maxAgeSeconds: Int
    public var invalidatedBy: [Located<String>]
    public var location: SourceLocation

    public init(maxAgeSeconds: Int, invalidatedBy: [Located<String>], location: SourceLocation) {
        self.maxAgeSeconds = maxAgeSeconds
        self.invalidatedBy = invalidatedBy
        self.location = location
    }
}

/// A non-CRUD operation on an entity (acknowledge an alarm, arm a panel), handled by hand-written code. Its body
/// and its answer are declared like the generated routes' (`body:` fields with the same rules, `status:`,
/// `returns:`), so the route reads the body into a generated type, the OpenAPI document says exactly what is
/// accepted and answered, and the handler only does the work.
public struct ActionDeclaration: Hashable, Sendable {
    public var name: String
    public var location: SourceLocation
    public var doc: String?
    public var roles: [Located<String>]
    /// `body:` the fields of the JSON object the action takes (none: it takes no body).
    public var body: [FieldDeclaration] = []
    /// `status:` the success status: 200 (default), 201 (created), 202 (accepted for later), 204 (no content).
    public var status: Located<Int>?
    /// `returns:` the entity the success answer carries (default: the action's own entity; none for 204).
    public var returns: Located<String>?
    /// `conflict:` when the action answers 409 (the row's state does not allow it), in the document's words.
    public var conflict: String?
    /// `collection: true`: the action works on rows its body names (`POST /api/<entity>/<action>`, no id in the
    /// path) and answers with the rows it changed as one page, not with one row.
    public var collection: Located<Bool>?

    public static let statuses = [200, 201, 202, 204]

    public init(name: String, location: SourceLocation, doc: String? = nil, roles: [Located<String>]) {
        self.name = name
        self.location = location
        self.doc = doc
        self.roles = roles
    }

    public var successStatus: Int { status?.value ?? 200 }

    public var onCollection: Bool { collection?.value == true }

    /// The entity named by the answer, nil for 204.
    public func returnedEntity(of owner: String) -> String? {
        successStatus == 204 ? nil : returns?.value ?? owner
    }
}
