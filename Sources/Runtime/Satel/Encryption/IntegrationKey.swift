import Crypto

/// The AES-192 key derived from the module's integration key (doc §8.1): the first 12 characters, padded
/// with spaces to 12, repeated twice.
public struct IntegrationKey: Sendable {
    public let keyBytes: [UInt8]
    let symmetricKey: SymmetricKey

    public init(_ text: String) {
        var twelve = Array(text.utf8.prefix(12))
        twelve += [UInt8](repeating: 0x20, count: 12 - twelve.count)
        keyBytes = twelve + twelve
        symmetricKey = SymmetricKey(data: keyBytes)
    }
}

extension IntegrationKey: CustomStringConvertible {
    /// Never prints the key.
    public var description: String { "IntegrationKey(<redacted>)" }
}
