import Yams

/// A YAML node of one schema file, with its position. A thin view over Yams' `Node`, which keeps mapping
/// order (so output follows the author's order) and source marks.
struct SchemaNode {
    struct Entry {
        var key: String
        var keyLocation: SourceLocation
        var value: SchemaNode
    }

    let node: Node
    let file: String

    var location: SourceLocation {
        let mark = node.mark
        return SourceLocation(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    /// The text of a scalar (plain, quoted or block), nil for mappings and lists.
    var scalar: String? { node.scalar?.string }

    /// `~`, `null` or an empty value.
    var isNull: Bool {
        guard let scalar = node.scalar else { return false }
        return scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    var entries: [Entry]? {
        guard let mapping = node.mapping else { return nil }
        return mapping.map { pair in
            let key = SchemaNode(node: pair.key, file: file)
            return Entry(key: key.scalar ?? "\(pair.key)", keyLocation: key.location,
                         value: SchemaNode(node: pair.value, file: file))
        }
    }

    var items: [SchemaNode]? {
        node.sequence.map { $0.map { SchemaNode(node: $0, file: file) } }
    }

    /// "a mapping", "a list" or "'text'", for "expected X, found Y" messages.
    var kindDescription: String {
        switch node {
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .scalar(let scalar): isNull ? "nothing" : "'\(scalar.string)'"
        case .alias: "an alias"
        }
    }
}
