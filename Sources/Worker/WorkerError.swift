import PostgresNIO

/// A failure of the worker's own logic, with a code a log search or a metric can key on.
public struct WorkerError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The panel row carries a newer fencing token: another worker owns the panel now.
        case fencingRefused = "fencing_refused"
        /// The panel row does not exist (deleted while owned).
        case panelNotFound = "panel_not_found"
        /// The panel has no ETHM-1 address (it reports over SIA DC-09 only): nothing to connect to.
        case noModuleAddress = "no_module_address"
        /// A command row cannot be turned into a control command (bad targets, no user code...).
        case invalidCommand = "invalid_command"
        /// The test hook asked the worker to stop before committing (never set in production).
        case testHook = "test_hook"
        case configuration
        /// The worker has not opened its connections yet (a readiness probe asked too early).
        case starting
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }

    /// The error a transaction's closure threw, when PostgreSQL wrapped it in a `PostgresTransactionError`.
    static func unwrapping(_ error: any Error) -> any Error {
        if let transaction = error as? PostgresTransactionError, let inner = transaction.closureError {
            return inner
        }
        return error
    }
}
