import Persistence
import PostgresNIO

extension DatabaseContext {
    /// Runs `body` in a transaction. postgres-nio wraps closure errors in `PostgresTransactionError`; this unwraps
    /// them, so an `APIError` comes out as itself, a `RepositoryError` as its `APIError` (409/422), and a
    /// `PSQLError` as itself for the caller's mapping (`APIError.from(database:)`).
    public func transaction<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        do {
            return try await client.withTransaction(logger: logger) { try await body($0) }
        } catch let error as PostgresTransactionError {
            if let inner = error.closureError as? APIError { throw inner }
            if let inner = error.closureError as? RepositoryError { throw APIError.from(repository: inner) }
            if let inner = error.closureError { throw inner }
            throw error
        }
    }
}
