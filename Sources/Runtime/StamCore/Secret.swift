/// A secret value (a panel's integration key, a user code, a password hash). It never shows itself: not in
/// `description`, not in logs, not in reflection, and it encodes to JSON as `null`, so a secret can be
/// written through the API but never read back. Decoding accepts the plain text.
public struct Secret: Sendable, Hashable, Codable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The plain text. Reading it is a deliberate act; grep for `revealed` to audit every use.
    public let revealed: String

    public init(_ plainText: String) { revealed = plainText }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "Secret(<redacted>)" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }

    public init(from decoder: any Decoder) throws {
        revealed = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encodeNil()
    }
}
