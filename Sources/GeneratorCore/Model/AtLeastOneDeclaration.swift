/// `at_least_one: { where: { role: admin, active: true }, code: last_admin, message: "..." }` on an entity: at
/// least one row matching `where` (equalities on enum and bool fields) exists after every update or delete. The
/// migration adds a statement trigger that takes a transaction lock, so concurrent writes are checked one after
/// the other, and refuses the write otherwise; the API answers 409 with `code` and `message`.
public struct AtLeastOneDeclaration: Hashable, Sendable {
    public var conditions: [(field: Located<String>, value: Located<String>)]
    public var code: Located<String>
    public var message: String
    public var location: SourceLocation

    public init(conditions: [(field: Located<String>, value: Located<String>)], code: Located<String>, message: String, location: SourceLocation) {
        self.conditions = conditions
        self.code = code
        self.message = message
        self.location = location
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message && lhs.location == rhs.location
            && lhs.conditions.map { [$0.field, $0.value] } == rhs.conditions.map { [$0.field, $0.value] }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(message)
        for condition in conditions { hasher.combine(condition.field); hasher.combine(condition.value) }
    }
}
