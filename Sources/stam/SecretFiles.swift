import Database
import Foundation

/// Where a process finds its secrets: Docker secrets under `/run/secrets`, or the directory named by
/// `STAM_SECRETS_DIR` (the local stack points it at `.stam/secrets`).
enum SecretFiles {
    static var directory: String {
        ProcessInfo.processInfo.environment["STAM_SECRETS_DIR"] ?? "/run/secrets"
    }

    static func path(_ name: String) -> String { "\(directory)/\(name)" }

    /// The secret's path when the file exists (a database may also trust the connection without one).
    static func existing(_ name: String) -> String? {
        FileManager.default.fileExists(atPath: path(name)) ? path(name) : nil
    }

    /// A secret file's content without the trailing newline editors add (the rule `DatabaseConfiguration` applies
    /// to its password file).
    static func read(_ path: String) throws -> String {
        try DatabaseConfiguration.readSecret(path)
    }
}
