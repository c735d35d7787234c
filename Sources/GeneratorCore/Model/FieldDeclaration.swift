import StamCore

/// One field of an entity or of an event payload.
public struct FieldDeclaration: Hashable, Sendable {
    public var name: String
    public var location: SourceLocation
    public var doc: String?
    public var kind: FieldKind
    public var optional = false
    public var primary = false
    public var unique = false
    public var maxLength: Located<Int>?
    /// `min:` the least number of characters of a string or text field.
    public var minLength: Located<Int>?
    /// `format:` a named pattern of a string field (`TextFormat`).
    public var format: Located<TextFormat>?
    /// `format: { by: <enum field>, <value>: <format>, ... }`: the pattern of a secret field chosen by another field
    /// of the same entity (a DC-09 key is hex digits or text by its `key_form`).
    public var formatBy: Located<FormatSelection>?
    /// `range: [low, high]`: the values an int or bigint field may hold.
    public var range: Located<ClosedRange<Int>>?
    public var defaultValue: Located<DefaultValue>?
    public var onDelete: Located<OnDeleteAction>?
    /// Set by the station (a worker, an action), never by API input: left out of create and update bodies.
    public var readonly = false
    /// `personal:` the kind of personal data a stored field holds (how `stam snapshot` replaces it), a nil kind
    /// for `personal: false`; nil when not written (an error on a field that can hold text).
    public var personal: Located<PersonalKind?>?
    /// `list: true` (action bodies only): a non-empty list of distinct values, each under the field's rules.
    public var list: Located<Bool>?

    public init(name: String, location: SourceLocation, kind: FieldKind) {
        self.name = name
        self.location = location
        self.kind = kind
    }
}
