import Foundation
import HummingbirdBcrypt
import NIOPosix

/// bcrypt off the event loops and the cooperative pool: a cost-12 hash takes about a quarter of a second
/// of CPU, which would stall every other request sharing the thread.
public enum PasswordHasher {
    public static let cost: UInt8 = 12
    /// bcrypt reads at most 72 bytes and stops at a NUL: a longer password would be accepted with anything
    /// after its 72nd byte, so the rules refuse it instead of silently cutting it.
    public static let maxBytes = 72
    public static let minCharacters = 10

    /// What is wrong with a new password, or nil.
    public static func problem(with password: String) -> String? {
        if password.count < minCharacters { return "must have at least \(minCharacters) characters" }
        if password.utf8.count > maxBytes { return "must be at most \(maxBytes) bytes in UTF-8 (bcrypt ignores the rest)" }
        if password.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) { return "must not contain control characters" }
        return nil
    }

    public static func hash(_ password: String) async throws -> String {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    public static func verify(_ password: String, hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }

    /// The same work as `verify` for an account that cannot log in (unknown, deactivated, no password), so the
    /// answer's timing does not tell which logins exist.
    public static func verifyDecoy(_ password: String) async throws {
        _ = try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: decoyHash) }
    }

    /// Made on first use, on a pool thread (it costs one hash).
    static let decoyHash = Bcrypt.hash(UUID().uuidString, cost: cost)
}
