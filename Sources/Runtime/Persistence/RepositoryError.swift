/// A data-access failure a caller can act on (the API maps the codes to 404, 409 and 400).
public struct RepositoryError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Code: String, Sendable {
        /// No row with that id.
        case notFound
        /// The row changed since the caller read it (optimistic concurrency: the version differs).
        case versionConflict
        /// A page cursor that this list did not issue (tampered, or for another sort).
        case invalidCursor
        /// A stored value that the model cannot hold (an enum value the build does not know, bad JSON).
        case invalidStoredValue
    }

    public var code: Code
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
