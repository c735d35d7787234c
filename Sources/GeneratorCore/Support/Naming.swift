/// Name conversions between the schema (snake_case fields, UpperCamelCase types) and Swift/SQL.
public enum Naming {
    /// `PanelEvent` -> `panel_event`, `SmsMessage` -> `sms_message`.
    public static func snakeCase(_ name: String) -> String {
        var result = ""
        let characters = Array(name)
        for (index, character) in characters.enumerated() {
            if character.isUppercase && index > 0 {
                let previous = characters[index - 1]
                let nextIsLower = index + 1 < characters.count && characters[index + 1].isLowercase
                // `PanelEvent` -> panel_event; `HTTPServer` -> http_server (split before the last capital of a run).
                if previous.isLowercase || previous.isNumber || (nextIsLower && previous.isUppercase) {
                    result += "_"
                }
            }
            result += character.lowercased()
        }
        return result
    }

    /// The snake_case a malformed name most likely meant: `Zone Number` -> `zone_number`,
    /// `panel-event` -> `panel_event`.
    public static func suggestedSnakeName(_ name: String) -> String {
        let words = name.split { !($0.isASCII && ($0.isLetter || $0.isNumber)) }
        return words.map { snakeCase(String($0)) }.joined(separator: "_")
    }

    /// `site_id` -> `siteId`: a mechanical mapping, so the Swift name and the JSON/SQL name convert both ways.
    public static func lowerCamelCase(_ snake: String) -> String {
        let parts = snake.split(separator: "_", omittingEmptySubsequences: true)
        guard let first = parts.first else { return snake }
        return String(first) + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    /// `in_progress` -> `InProgress`.
    public static func upperCamelCase(_ snake: String) -> String {
        let lower = lowerCamelCase(snake)
        return lower.prefix(1).uppercased() + lower.dropFirst()
    }

    /// English plural of a snake_case noun, good enough for table names (`entry` -> `entries`).
    public static func plural(_ noun: String) -> String {
        if noun.hasSuffix("y"), let beforeY = noun.dropLast().last, !"aeiou".contains(beforeY) {
            return noun.dropLast() + "ies"
        }
        if noun.hasSuffix("s") || noun.hasSuffix("x") || noun.hasSuffix("sh") || noun.hasSuffix("ch") {
            return noun + "es"
        }
        return noun + "s"
    }

    /// The default table of an entity: `AuditEntry` -> `audit_entries`.
    public static func tableName(forEntity name: String) -> String { plural(snakeCase(name)) }
}
