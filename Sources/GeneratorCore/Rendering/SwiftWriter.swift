/// A small code writer: lines with managed indentation, so renderers say what to emit, not how to pad it.
struct SwiftWriter {
    private(set) var lines: [String] = []
    private var depth = 0

    mutating func line(_ text: String = "") {
        lines.append(text.isEmpty ? "" : String(repeating: "    ", count: depth) + text)
    }

    /// `header {` body `}`.
    mutating func block(_ header: String, _ body: (inout SwiftWriter) -> Void) {
        line(header + " {")
        depth += 1
        body(&self)
        depth -= 1
        line("}")
    }

    /// `header { parameters in` body `}`: a trailing closure.
    mutating func closure(_ header: String, parameters: String, _ body: (inout SwiftWriter) -> Void) {
        line(header + " { " + parameters + " in")
        depth += 1
        body(&self)
        depth -= 1
        line("}")
    }

    /// `///` doc comment lines; blank lines inside the text stay blank comment lines.
    mutating func doc(_ text: String?) {
        guard let text, !text.isEmpty else { return }
        for part in text.split(separator: "\n", omittingEmptySubsequences: false) {
            line(part.isEmpty ? "///" : "/// " + part)
        }
    }

    /// A `//` comment line (why, not what).
    mutating func comment(_ text: String) { line("// " + text) }

    var text: String { lines.joined(separator: "\n") + "\n" }
}

/// Swift spelling helpers.
enum SwiftNames {
    static let keywords: Set<String> = [
        "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import", "init", "inout",
        "internal", "let", "open", "operator", "private", "protocol", "public", "rethrows", "static", "struct",
        "subscript", "typealias", "var", "break", "case", "catch", "continue", "default", "defer", "do", "else",
        "fallthrough", "for", "guard", "if", "in", "repeat", "return", "throw", "switch", "where", "while", "as",
        "false", "is", "nil", "self", "Self", "super", "throws", "true", "try", "await", "async", "Any", "Type",
    ]

    /// A schema name as a Swift identifier, in backticks when it is a keyword.
    static func identifier(_ snake: String) -> String {
        let name = Naming.lowerCamelCase(snake)
        return keywords.contains(name) ? "`\(name)`" : name
    }

    /// A string literal.
    static func literal(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            case "\t": escaped += "\\t"
            default: escaped.append(character)
            }
        }
        return "\"\(escaped)\""
    }
}
