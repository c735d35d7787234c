/// What a field holds: a built-in scalar, a value of a schema enum, or a reference to another entity.
public enum FieldKind: Hashable, Sendable {
    case scalar(ScalarType)
    case enumeration(Located<String>)
    case reference(Located<String>)
}
