/// One problem found in the schema, printed the way compilers print them so editors can jump to it:
/// `schema/entities.yaml:12:7: error: unknown type 'uuidd'; did you mean 'uuid'?`
public struct Diagnostic: Hashable, Sendable, CustomStringConvertible, Error {
    public enum Severity: String, Sendable, Hashable {
        case error
        case warning
    }

    public var severity: Severity
    public var location: SourceLocation
    public var message: String

    public init(_ severity: Severity, at location: SourceLocation, _ message: String) {
        self.severity = severity
        self.location = location
        self.message = message
    }

    public var description: String { "\(location): \(severity.rawValue): \(message)" }
}

/// Every diagnostic of a run. Loading and validation keep going after an error so one run reports all of
/// them; nothing is written while `hasErrors` is true.
public struct DiagnosticList: Sendable, Error, CustomStringConvertible {
    public private(set) var items: [Diagnostic] = []

    public init(_ items: [Diagnostic] = []) { self.items = items }

    public var hasErrors: Bool { items.contains { $0.severity == .error } }
    /// Errors in file order.
    public var errors: [Diagnostic] { sorted.filter { $0.severity == .error } }

    public mutating func error(_ message: String, at location: SourceLocation) {
        items.append(Diagnostic(.error, at: location, message))
    }

    public mutating func warning(_ message: String, at location: SourceLocation) {
        items.append(Diagnostic(.warning, at: location, message))
    }

    public mutating func append(contentsOf other: DiagnosticList) {
        items.append(contentsOf: other.items)
    }

    /// In file order, so the report reads top to bottom like the schema does.
    public var sorted: [Diagnostic] {
        items.enumerated().sorted { a, b in
            a.element.location == b.element.location ? a.offset < b.offset : a.element.location < b.element.location
        }.map(\.element)
    }

    public var description: String { sorted.map(\.description).joined(separator: "\n") }
}
