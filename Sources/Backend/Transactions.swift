import APISupport
import Persistence
import PostgresNIO

extension DatabaseContext {
    /// Runs `body` in a transaction; an `APIError` or `RepositoryError` thrown inside comes out as itself
    /// (postgres-nio wraps closure errors in `PostgresTransactionError`), so handlers answer 409/422 cleanly.
    func transaction<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
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
