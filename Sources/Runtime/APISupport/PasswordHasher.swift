import Crypto
import Foundation
import HummingbirdBcrypt
import NIOPosix
import StamCore

/// Passwords as bcrypt hashes, computed off the event loops and the cooperative pool: a cost-12 hash takes about
/// a quarter of a second of CPU, which would stall every other request sharing the thread.
///
/// bcrypt reads at most 72 bytes and stops at a NUL, so a password is hashed as the base64 of its SHA-256 (44
/// bytes, no NUL) and every character of it counts, up to `maxCharacters`; the stored hash says so with
/// `prehashPrefix`. A hash without the prefix (stored before) is verified the old way, so no operator is locked
/// out by the upgrade; setting the password again moves it to the new form.
public enum PasswordHasher {
    public static let cost: UInt8 = 12
    public static let minCharacters = 10
    public static let maxCharacters = 1024
    public static let prehashPrefix = "sha256:"

    /// What is wrong with a new password, or nil: the rules the API's `set_password` body declares in the schema
    /// (characters counted as code points, as JSON Schema and PostgreSQL count them; no control characters).
    public static func problem(with password: String) -> String? {
        let length = password.unicodeScalars.count
        if length < minCharacters { return "must have at least \(minCharacters) characters" }
        if length > maxCharacters { return "must have at most \(maxCharacters) characters" }
        if ControlCharacters.contains(in: password, lineBreaks: false) { return "must not contain control characters" }
        return nil
    }

    public static func hash(_ password: String) async throws -> String {
        let input = prehash(password)
        return try await NIOThreadPool.singleton.runIfActive { prehashPrefix + Bcrypt.hash(input, cost: cost) }
    }

    public static func verify(_ password: String, hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive {
            if hash.hasPrefix(prehashPrefix) { return Bcrypt.verify(prehash(password), hash: String(hash.dropFirst(prehashPrefix.count))) }
            return Bcrypt.verify(password, hash: hash)
        }
    }

    /// The same work as `verify` for an account that cannot log in (unknown, deactivated, no password), so the
    /// answer's timing does not tell which logins exist.
    public static func verifyDecoy(_ password: String) async throws {
        _ = try await verify(password, hash: decoyHash)
    }

    static func prehash(_ password: String) -> String {
        Data(SHA256.hash(data: Data(password.utf8))).base64EncodedString()
    }

    /// Made on first use (it costs one hash), in the form new passwords take, so the decoy does the same work.
    static let decoyHash = prehashPrefix + Bcrypt.hash(prehash(UUID().uuidString), cost: cost)
}
