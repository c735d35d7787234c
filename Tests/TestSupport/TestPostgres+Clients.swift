import Crypto
import Database
import Logging
import Persistence
import PostgresNIO

extension TestPostgres {
    /// The project's migrations, as `stam migrate` applies them.
    public static var projectMigrations: String { "\(StamBinary.projectRoot)/migrations" }

    /// A `PostgresClient` that runs for `body` only.
    public static func withClient<Result: Sendable>(_ database: DatabaseConfiguration, logger: Logger,
                                                    _ body: @Sendable (PostgresClient) async throws -> Result) async throws -> Result {
        let client = PostgresClient(configuration: database.clientConfiguration, backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }
}

extension SecretBox {
    /// A box with a fresh random key, for a test's encrypted columns.
    public static func random() throws -> SecretBox { try SecretBox(key: SymmetricKey(size: .bits256)) }
}
