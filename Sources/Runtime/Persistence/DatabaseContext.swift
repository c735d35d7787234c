import Logging
import PostgresNIO

/// What the generated repositories run on: the pool, the secret box for `secret` columns and a logger.
/// Every repository method takes an optional connection: pass the one of an open transaction
/// (`client.withTransaction { connection in ... }`) to make the call part of it.
public struct DatabaseContext: Sendable {
    public let client: PostgresClient
    public let secrets: SecretBox?
    public let logger: Logger
    /// Whether repositories may use named prepared statements (`FirstPageStatement`): only when every connection
    /// keeps its session (PostgreSQL itself, or a session-mode pool), never through PgBouncer's transaction pooling.
    /// `DatabaseConfiguration.preparedStatements` says which.
    public let preparesStatements: Bool

    public init(client: PostgresClient, secrets: SecretBox?, logger: Logger = Logger(label: "stam.repository"),
                preparesStatements: Bool = false) {
        self.client = client
        self.secrets = secrets
        self.logger = logger
        self.preparesStatements = preparesStatements
    }

    /// The box, or a clear error for a process started without the encryption key.
    public func secretBox(for table: String) throws -> SecretBox {
        guard let secrets else {
            throw SecretBoxError(code: .invalidKey, message: "\(table) has secret columns but this process was started without the encryption_key secret")
        }
        return secrets
    }

    /// Runs `query` on the caller's connection when given, else on a pooled one, and collects the rows.
    public func rows(_ query: PostgresQuery, on connection: PostgresConnection?) async throws -> [PostgresRow] {
        if let connection {
            return try await connection.query(query, logger: logger).collect()
        }
        return try await client.query(query, logger: logger).collect()
    }

    /// Runs a prepared statement (prepared on the connection the first time it meets it) and collects the rows.
    public func rows<Statement: PostgresPreparedStatement>(_ statement: Statement, on connection: PostgresConnection?) async throws -> [PostgresRow]
        where Statement.Row == PostgresRow {
        var rows: [PostgresRow] = []
        if let connection {
            for try await row in try await connection.execute(statement, logger: logger) { rows.append(row) }
        } else {
            for try await row in try await client.execute(statement, logger: logger) { rows.append(row) }
        }
        return rows
    }
}
