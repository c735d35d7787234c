/// Splits a migration into single statements. postgres-nio speaks the extended query protocol, which takes
/// one statement per query, so a migration file is sent statement by statement (inside one transaction).
/// Semicolons inside quotes, quoted identifiers, dollar-quoted bodies and comments do not split.
public enum SQLScript {
    public static func statements(in script: String) -> [String] {
        var statements: [String] = []
        var current = ""
        let characters = Array(script)
        var index = 0

        func flush() {
            let statement = current.trimmingWhitespace()
            if !statement.isEmpty && !isOnlyComments(statement) { statements.append(statement) }
            current = ""
        }

        while index < characters.count {
            let character = characters[index]
            let next: Character? = index + 1 < characters.count ? characters[index + 1] : nil
            switch character {
            case "-" where next == "-":
                while index < characters.count && characters[index] != "\n" { current.append(characters[index]); index += 1 }
                continue
            case "/" where next == "*":
                var depth = 0
                repeat {
                    if characters[index] == "/" && index + 1 < characters.count && characters[index + 1] == "*" {
                        depth += 1; current += "/*"; index += 2; continue
                    }
                    if characters[index] == "*" && index + 1 < characters.count && characters[index + 1] == "/" {
                        depth -= 1; current += "*/"; index += 2; continue
                    }
                    current.append(characters[index]); index += 1
                } while depth > 0 && index < characters.count
                continue
            case "'", "\"":
                current.append(character); index += 1
                while index < characters.count {
                    current.append(characters[index])
                    if characters[index] == character {
                        // A doubled quote is an escaped quote inside the literal.
                        if index + 1 < characters.count && characters[index + 1] == character {
                            current.append(character); index += 2; continue
                        }
                        index += 1
                        break
                    }
                    index += 1
                }
                continue
            case "$":
                if let tag = dollarTag(characters, at: index) {
                    current += tag; index += tag.count
                    while index < characters.count {
                        if characters[index] == "$", String(characters[index..<min(characters.count, index + tag.count)]) == tag {
                            current += tag; index += tag.count
                            break
                        }
                        current.append(characters[index]); index += 1
                    }
                    continue
                }
            case ";":
                flush(); index += 1
                continue
            default:
                break
            }
            current.append(character)
            index += 1
        }
        flush()
        return statements
    }

    /// `$$` or `$tag$` starting at `index`, if one does.
    private static func dollarTag(_ characters: [Character], at index: Int) -> String? {
        var end = index + 1
        while end < characters.count, characters[end] == "_" || characters[end].isLetter || (end > index + 1 && characters[end].isNumber) {
            end += 1
        }
        guard end < characters.count, characters[end] == "$" else { return nil }
        return String(characters[index...end])
    }

    private static func isOnlyComments(_ statement: String) -> Bool {
        statement.split(separator: "\n").allSatisfy { $0.trimmingWhitespace().isEmpty || $0.trimmingWhitespace().hasPrefix("--") }
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars.drop { $0.properties.isWhitespace }
        var result = String(String.UnicodeScalarView(scalars))
        while let last = result.unicodeScalars.last, last.properties.isWhitespace { result.unicodeScalars.removeLast() }
        return result
    }
}
