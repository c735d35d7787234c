/// What PostgreSQL does to a referencing row when the referenced row is deleted.
public enum OnDeleteAction: String, CaseIterable, Hashable, Sendable {
    case restrict, cascade, setNull = "set_null", noAction = "no_action"

    public var sql: String {
        switch self {
        case .restrict: "RESTRICT"
        case .cascade: "CASCADE"
        case .setNull: "SET NULL"
        case .noAction: "NO ACTION"
        }
    }
}
