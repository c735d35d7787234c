/// What kind of personal data a stored field holds (`personal:` on a field of `schema/entities.yaml`). It says how
/// `stam snapshot` replaces the value when production's data is copied to STAGE: every kind is replaced, each
/// so that what the station relies on still holds (formats, uniqueness, equal values staying equal).
public enum PersonalKind: String, CaseIterable, Sendable {
    /// A person's, site's or device's name: `name-` and 12 hex digits of the value's keyed hash.
    case name
    /// A postal address: `address-` and 12 hex digits.
    case address
    /// Free text that may name or quote people (notes, SMS bodies, raw frames): `text-` and 16 hex digits;
    /// bytes become null.
    case text
    /// A telephone number: `+48` and nine digits derived from the number's last nine digits, so two spellings
    /// of one number (+48 600 100 200, 0048600100200) stay equal, as the SMS attribution compares them.
    case phone
    /// An operator's login: `user-` and 12 hex digits (still a valid login, still unique).
    case login
    /// A network peer's address: an address of 198.51.100.0/24 (TEST-NET-2, never routed).
    case ip
    /// A value encrypted with production's key, which STAGE does not have: null (STAGE sets its own).
    case secret
    /// The address of equipment at the premises (a panel's ETHM-1): null, so STAGE never connects to a real site.
    case host
    /// A structured document (changed fields, extended data): null, or `{}` where a value is required.
    case json
}

/// One column that holds personal data, as the generator lists them (`StamSchema.personalColumns`).
public struct PersonalColumn: Hashable, Sendable {
    public enum Storage: String, Sendable { case text, bytea, json, jsonb }

    public var table: String
    public var column: String
    public var kind: PersonalKind
    public var storage: Storage
    public var optional: Bool
    /// The column's `max:`; a replacement is cut to it.
    public var maxLength: Int?

    public init(table: String, column: String, kind: PersonalKind, storage: Storage, optional: Bool, maxLength: Int?) {
        self.table = table
        self.column = column
        self.kind = kind
        self.storage = storage
        self.optional = optional
        self.maxLength = maxLength
    }
}
