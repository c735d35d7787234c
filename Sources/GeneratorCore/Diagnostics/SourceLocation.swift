/// A position in a schema file, as `schema/entities.yaml:12:7` (line and column start at 1).
public struct SourceLocation: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The file path relative to the project root, e.g. `schema/entities.yaml`.
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }

    public static func < (lhs: SourceLocation, rhs: SourceLocation) -> Bool {
        (lhs.file, lhs.line, lhs.column) < (rhs.file, rhs.line, rhs.column)
    }
}
