import Foundation

/// A YAML document built in code, for outputs whose shape is nested and repetitive (Kubernetes objects), where a
/// template would hide the structure. Mappings keep the order they are written in; strings are always emitted
/// double-quoted with JSON escapes, so no value can be read back as another type (`"1"`, `"on"`, `"0755"`).
indirect enum YAMLTree: Hashable, Sendable {
    case string(String)
    /// A multi-line text (a configuration file in a ConfigMap), written as a literal block so it reads as the file;
    /// quoted like `string` when a block cannot hold it exactly.
    case text(String)
    case int(Int)
    case bool(Bool)
    case list([YAMLTree])
    case map([Entry])

    struct Entry: Hashable, Sendable {
        var key: String
        var value: YAMLTree
    }

    /// A mapping from `(key, value)` pairs; a nil value leaves its key out.
    static func object(_ pairs: KeyValuePairs<String, YAMLTree?>) -> YAMLTree {
        .map(pairs.compactMap { pair in pair.value.map { Entry(key: pair.key, value: $0) } })
    }

    var isEmpty: Bool {
        switch self {
        case .list(let items): items.isEmpty
        case .map(let entries): entries.isEmpty
        default: false
        }
    }

    /// The document's text, ending with a newline.
    func rendered() -> String {
        var lines: [String] = []
        emit(into: &lines, indent: 0)
        return lines.joined(separator: "\n") + "\n"
    }

    /// Several documents in one file, separated by `---`.
    static func documents(_ documents: [YAMLTree]) -> String {
        documents.map { $0.rendered() }.joined(separator: "---\n")
    }

    private func emit(into lines: inout [String], indent: Int) {
        let pad = String(repeating: " ", count: indent)
        switch self {
        case .map(let entries) where !entries.isEmpty:
            for entry in entries { entry.value.emitValue(of: pad + Self.key(entry.key) + ":", into: &lines, indent: indent) }
        case .list(let items) where !items.isEmpty:
            for item in items { item.emitItem(into: &lines, indent: indent) }
        default:
            lines.append(pad + scalar)
        }
    }

    /// `key: value`, or `key:` followed by the nested block.
    private func emitValue(of prefix: String, into lines: inout [String], indent: Int) {
        switch self {
        case .map(let entries) where !entries.isEmpty:
            lines.append(prefix)
            emit(into: &lines, indent: indent + 2)
        case .list(let items) where !items.isEmpty:
            lines.append(prefix)
            emit(into: &lines, indent: indent)
        case .text(let text) where Self.fitsBlock(text):
            // `|` keeps the one final newline, `|-` has none; lines indented under the key, empty lines left empty.
            lines.append(prefix + (text.hasSuffix("\n") ? " |" : " |-"))
            let pad = String(repeating: " ", count: indent + 2)
            let body = text.hasSuffix("\n") ? String(text.dropLast()) : text
            lines += body.split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : pad + $0 }
        default:
            lines.append(prefix + " " + scalar)
        }
    }

    /// Whether a literal block gives back exactly `text`: printable lines, the first not starting with a space
    /// (that would need an indentation indicator), at most one final newline, no line with only spaces.
    static func fitsBlock(_ text: String) -> Bool {
        guard !text.isEmpty, !text.hasSuffix("\n\n"), !text.hasPrefix(" "), !text.hasPrefix("\n") else { return false }
        let printable = text.unicodeScalars.allSatisfy { $0 == "\n" || $0 == "\t" || ($0.value >= 0x20 && $0.value != 0x7F && !(0x80...0x9F).contains($0.value)) }
        let blankWithSpaces = text.split(separator: "\n").contains { !$0.isEmpty && $0.allSatisfy { $0 == " " || $0 == "\t" } }
        return printable && !blankWithSpaces && !text.contains("\r") && !text.contains("\u{FEFF}")
    }

    /// `- item`: a mapping's first key on the dash line, the rest under it.
    private func emitItem(into lines: inout [String], indent: Int) {
        let pad = String(repeating: " ", count: indent)
        switch self {
        case .map(let entries) where !entries.isEmpty:
            var nested: [String] = []
            YAMLTree.map(entries).emit(into: &nested, indent: indent + 2)
            lines.append(pad + "- " + nested[0].dropFirst(indent + 2))
            lines += nested.dropFirst()
        case .list(let items) where !items.isEmpty:
            lines.append(pad + "-")
            YAMLTree.list(items).emit(into: &lines, indent: indent + 2)
        default:
            lines.append(pad + "- " + scalar)
        }
    }

    private var scalar: String {
        switch self {
        case .string(let text), .text(let text): Self.quoted(text)
        case .int(let number): String(number)
        case .bool(let flag): flag ? "true" : "false"
        case .list: "[]"
        case .map: "{}"
        }
    }

    /// Keys are written plain when they are plain words (Kubernetes field names, labels like `app.kubernetes.io/name`).
    private static func key(_ text: String) -> String {
        let plain = !text.isEmpty && text.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "._/-".unicodeScalars.contains($0) }
            && !["true", "false", "yes", "no", "on", "off", "null", "y", "n"].contains(text.lowercased()) && Int(text) == nil
        return plain ? text : quoted(text)
    }

    /// A JSON string literal, which YAML reads as a double-quoted scalar.
    private static func quoted(_ text: String) -> String { TemplateValues.quoted(text) }
}
