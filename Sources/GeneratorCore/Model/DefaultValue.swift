/// A field default: the current time, a random UUID, or a literal checked against the field's type.
public enum DefaultValue: Hashable, Sendable {
    case now
    case random
    case literal(String)
}
