/// Why a secret could not be sealed or opened. The message never contains the secret.
public struct SecretBoxError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Code: String, Sendable {
        /// The key file is missing, unreadable, not base64 or not 32 bytes.
        case invalidKey
        /// The value was sealed under a different key (the key ids differ).
        case wrongKey
        /// The value is not in the sealed format.
        case malformed
        /// Right key, but the tag does not match: altered, or moved from another row or column.
        case authenticationFailed
    }

    public var code: Code
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "secret \(code.rawValue): \(message)" }
}
