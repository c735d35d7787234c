import Foundation

/// A generated entity model: one row of `tableName`. Generated code conforms; the runtime's data access
/// works over this protocol and never imports the generated module.
public protocol Entity: Sendable, Codable, Hashable, Identifiable {
    static var tableName: String { get }
    /// Columns in schema order.
    static var columnNames: [String] { get }
}
