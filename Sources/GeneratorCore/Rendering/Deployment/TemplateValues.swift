import Foundation

/// Spelling values for the languages of the deployment files. Renderers call these while building view
/// models, so templates never have to know how a language quotes.
enum TemplateValues {
    static func jsonStringContents(_ text: String) -> String {
        var escaped = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            // C0, DEL and C1: YAML does not take them raw in a double-quoted scalar; JSON takes them escaped too.
            case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value):
                escaped += String(format: "\\u%04x", scalar.value)
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    /// A double-quoted string; valid in JSON and as a YAML flow scalar.
    static func quoted(_ text: String) -> String { "\"\(jsonStringContents(text))\"" }

    /// `["a", "b"]`: a JSON array of strings, also a YAML flow sequence.
    static func flowList(_ items: [String]) -> String { "[" + items.map(quoted).joined(separator: ", ") + "]" }

    /// A literal value inside a compose file: `$` would start a variable, so it is doubled.
    static func composeLiteral(_ text: String) -> String { text.replacingOccurrences(of: "$", with: "$$") }

    /// A word for a POSIX shell, single-quoted when it needs to be.
    static func shellWord(_ text: String) -> String {
        let safe = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./-_")
        if !text.isEmpty, text.unicodeScalars.allSatisfy({ safe.contains($0) }) { return text }
        return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// Seconds in the shortest unit that divides them (`3600` -> `1h`), as Prometheus and nginx write durations.
    static func duration(_ seconds: Int) -> String {
        if seconds > 0, seconds % 3600 == 0 { return "\(seconds / 3600)h" }
        if seconds > 0, seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }

    /// A compose variable with a default: `${NAME:-default}`.
    static func variable(_ name: String, default value: String) -> String { "${\(name):-\(value)}" }
}
