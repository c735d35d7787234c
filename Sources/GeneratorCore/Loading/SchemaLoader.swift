import Yams

/// Stage 1 of the generator: YAML text -> `Schema`. Checks the shape of every file (known keys, expected
/// kinds of values) and reports all problems with positions; meaning (do references resolve?) is
/// `SchemaValidator`'s job. A file that fails to parse as YAML is skipped after one error; the others are
/// still loaded so a run reports everything it can.
public final class SchemaLoader {
    public internal(set) var diagnostics = DiagnosticList()
    var schema = Schema()

    public init() {}

    /// Loads the schema from file contents keyed by file. A missing file is an empty one.
    public func load(_ sources: [SchemaFile: String]) -> Schema {
        for file in SchemaFile.allCases {
            guard let text = sources[file], let root = parse(text, file: file.path) else { continue }
            switch file {
            case .entities: loadEntitiesFile(root)
            case .events: loadEventsFile(root)
            case .queues: loadQueuesFile(root)
            case .deployment: loadDeploymentFile(root)
            }
        }
        return schema
    }

    // MARK: YAML

    private func parse(_ text: String, file: String) -> SchemaNode? {
        do {
            guard let node = try Yams.compose(yaml: text) else { return nil }
            return SchemaNode(node: node, file: file)
        } catch let error as YamlError {
            let (mark, problem) = Self.describe(error)
            diagnostics.error(problem, at: SourceLocation(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1))
        } catch {
            diagnostics.error("cannot read YAML: \(error)", at: SourceLocation(file: file, line: 1, column: 1))
        }
        return nil
    }

    private static func describe(_ error: YamlError) -> (Mark?, String) {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
             .composer(_, let problem, let mark, _):
            return (mark, "invalid YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let names = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            return (context.mark, "duplicate key \(names) in one mapping; each name may be declared once")
        case .reader(let problem, _, _, _):
            return (nil, "cannot read the file: \(problem)")
        default:
            return (nil, "invalid YAML: \(error)")
        }
    }

    // MARK: Shape helpers shared by the per-file loaders

    /// The entries of a mapping, reporting keys outside `allowed` (with the nearest valid key).
    func mapping(_ node: SchemaNode, _ what: String, allowed: [String]? = nil) -> [SchemaNode.Entry]? {
        guard let entries = node.entries else {
            if node.isNull { return [] }
            diagnostics.error("expected a mapping for \(what), found \(node.kindDescription)", at: node.location)
            return nil
        }
        if let allowed {
            for entry in entries where !allowed.contains(entry.key) {
                diagnostics.error(
                    "unknown key '\(entry.key)' in \(what)\(NameSuggestion.hint(for: entry.key, in: allowed))"
                        + " (expected one of: \(allowed.joined(separator: ", ")))",
                    at: entry.keyLocation)
            }
        }
        return entries
    }

    func value(_ entries: [SchemaNode.Entry], _ key: String) -> SchemaNode? {
        entries.first { $0.key == key }?.value
    }

    func string(_ node: SchemaNode, _ what: String) -> String? {
        guard let text = node.scalar, !node.isNull else {
            diagnostics.error("expected text for \(what), found \(node.kindDescription)", at: node.location)
            return nil
        }
        return text
    }

    func locatedString(_ node: SchemaNode, _ what: String) -> Located<String>? {
        string(node, what).map { Located($0, at: node.location) }
    }

    func int(_ node: SchemaNode, _ what: String) -> Int? {
        guard let text = node.scalar, let value = Int(text) else {
            diagnostics.error("expected a whole number for \(what), found \(node.kindDescription)", at: node.location)
            return nil
        }
        return value
    }

    func bool(_ node: SchemaNode, _ what: String) -> Bool? {
        switch node.scalar {
        case "true": return true
        case "false": return false
        default:
            diagnostics.error("expected true or false for \(what), found \(node.kindDescription)", at: node.location)
            return nil
        }
    }

    func stringList(_ node: SchemaNode, _ what: String) -> [Located<String>]? {
        guard let items = node.items else {
            if node.isNull { return [] }
            diagnostics.error("expected a list for \(what), found \(node.kindDescription)", at: node.location)
            return nil
        }
        return items.compactMap { locatedString($0, what) }
    }

    /// A value of a closed set of words (`restart: always`), suggesting the nearest one on a typo.
    func choice<T: RawRepresentable & CaseIterable>(_ node: SchemaNode, _ what: String, as type: T.Type) -> T?
    where T.RawValue == String {
        guard let text = string(node, what) else { return nil }
        if let value = T(rawValue: text) { return value }
        let names = T.allCases.map(\.rawValue)
        diagnostics.error(
            "unknown \(what) '\(text)'\(NameSuggestion.hint(for: text, in: names)) (expected one of: \(names.joined(separator: ", ")))",
            at: node.location)
        return nil
    }

    /// Optional documentation text.
    func doc(_ entries: [SchemaNode.Entry]) -> String? {
        value(entries, "doc").flatMap { string($0, "doc") }
    }
}
