import HummingbirdBcrypt
import NIOPosix

/// bcrypt off the event loops and the cooperative pool: a cost-12 hash takes about a quarter of a second
/// of CPU, which would stall every other request sharing the thread.
public enum PasswordHasher {
    public static let cost: UInt8 = 12

    public static func hash(_ password: String) async throws -> String {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    public static func verify(_ password: String, hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }
}
