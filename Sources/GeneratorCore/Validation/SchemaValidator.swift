import Foundation

/// Stage 2 of the generator: checks what the schema means. Every reference must resolve, every name must be
/// a valid identifier that is not a reserved SQL word, and the deployment must be a runnable graph. All
/// problems are collected; renderers run only when there are none.
public struct SchemaValidator {
    public internal(set) var diagnostics = DiagnosticList()
    let schema: Schema

    public init(schema: Schema) {
        self.schema = schema
    }

    public static func validate(_ schema: Schema) -> DiagnosticList {
        var validator = SchemaValidator(schema: schema)
        validator.run()
        return validator.diagnostics
    }

    mutating func run() {
        checkTypeNames()
        checkEnums()
        checkAlarmStack()
        for entity in schema.entities { check(entity) }
        checkTableNames()
        for event in schema.events { check(event) }
        checkExchangesAndQueues()
        checkEventRouting()
        checkDeployment()
    }

    // MARK: Names

    static let entityNamePattern = "UpperCamelCase letters and digits, starting with a capital letter"

    func isTypeName(_ name: String) -> Bool {
        guard let first = name.first, first.isASCII, first.isUppercase else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
    }

    /// snake_case, as SQL columns, tables and JSON keys use; at most 63 bytes (PostgreSQL's NAMEDATALEN - 1).
    func isSnakeName(_ name: String) -> Bool {
        guard let first = name.first, first.isASCII, first.isLowercase, name.utf8.count <= 63 else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }
    }

    mutating func checkSnakeName(_ name: String, _ what: String, at location: SourceLocation, context: String) {
        if !isSnakeName(name) {
            let suggestion = Naming.suggestedSnakeName(name)
            let hint = isSnakeName(suggestion) ? "; did you mean '\(suggestion)'?" : ""
            diagnostics.error(
                "invalid identifier '\(name)' for \(what): use lower snake_case (a-z, 0-9, _), starting with a letter, at most 63 characters\(hint)",
                at: location)
        } else if SQLReservedWords.contains(name) {
            diagnostics.error(
                "\(what) '\(name)' is a reserved word in SQL; choose another name such as '\(context)_\(name)'",
                at: location)
        }
    }

    /// Enums, entities and events all become Swift types in one module.
    mutating func checkTypeNames() {
        var seen: [String: (kind: String, location: SourceLocation)] = [:]
        let declared = schema.enums.map { ($0.name, "enum", $0.location) }
            + schema.entities.map { ($0.name, "entity", $0.location) }
            + schema.events.map { ($0.name, "event", $0.location) }
        for (name, kind, location) in declared {
            if !isTypeName(name) {
                let suggestion = Naming.upperCamelCase(Naming.suggestedSnakeName(name))
                let hint = isTypeName(suggestion) ? "; did you mean '\(suggestion)'?" : ""
                diagnostics.error("invalid identifier '\(name)' for an \(kind): use \(Self.entityNamePattern)\(hint)", at: location)
            } else if SwiftReservedTypeNames.contains(name) {
                diagnostics.error("\(kind) name '\(name)' would hide the Swift type '\(name)' in generated code; choose another name", at: location)
            }
            if let previous = seen[name] {
                diagnostics.error("duplicate name '\(name)': already declared as \(previous.kind) at \(previous.location)", at: location)
            } else {
                seen[name] = (kind, location)
            }
        }
        var roles = Set<String>()
        for role in schema.roles {
            checkSnakeName(role.value, "role", at: role.location, context: "role")
            if !roles.insert(role.value).inserted {
                diagnostics.error("duplicate role '\(role.value)'", at: role.location)
            }
        }
    }

    mutating func checkEnums() {
        for enumeration in schema.enums {
            if enumeration.values.isEmpty {
                diagnostics.error("enum '\(enumeration.name)' has no values", at: enumeration.location)
            }
            var seen = Set<String>()
            for value in enumeration.values {
                if !isSnakeName(value.value) {
                    diagnostics.error(
                        "invalid identifier '\(value.value)' for a value of enum '\(enumeration.name)': use lower snake_case",
                        at: value.location)
                }
                if !seen.insert(value.value).inserted {
                    diagnostics.error("duplicate value '\(value.value)' in enum '\(enumeration.name)'", at: value.location)
                }
            }
            let values = enumeration.values.map(\.value)
            var renamedOld = Set<String>()
            for rename in enumeration.renamed {
                if values.contains(rename.old.value) {
                    diagnostics.error("'\(rename.old.value)' is renamed but is still a value of enum '\(enumeration.name)'; remove it from 'values' or from 'renamed'",
                                      at: rename.old.location)
                }
                if !renamedOld.insert(rename.old.value).inserted {
                    diagnostics.error("'\(rename.old.value)' is renamed twice in enum '\(enumeration.name)'", at: rename.old.location)
                }
                if !values.contains(rename.new.value) {
                    diagnostics.error("'\(rename.old.value)' is renamed to '\(rename.new.value)', which is not a value of enum '\(enumeration.name)'"
                                      + NameSuggestion.hint(for: rename.new.value, in: values), at: rename.new.location)
                }
            }
        }
    }

    mutating func checkTableNames() {
        var seen: [String: String] = [:]
        for entity in schema.entities {
            let table = entity.table
            // A table derived from an invalid entity name is reported with the entity, not twice.
            if table.location == entity.location && !isTypeName(entity.name) { continue }
            checkSnakeName(table.value, "table name", at: table.location, context: Naming.snakeCase(entity.name))
            if SystemTables.names.contains(table.value) {
                diagnostics.error("table name '\(table.value)' of entity '\(entity.name)' is used by stam itself; set 'table:' to another name", at: table.location)
            }
            if let other = seen[table.value] {
                diagnostics.error("entity '\(entity.name)' uses table '\(table.value)', already used by entity '\(other)'", at: table.location)
            }
            seen[table.value] = entity.name
        }
    }

    // MARK: Field kinds shared by entities and events

    /// Checks that an enum or entity named by a field exists, suggesting the nearest declared name.
    mutating func checkKind(of field: FieldDeclaration, in owner: String) {
        switch field.kind {
        case .scalar:
            break
        case .enumeration(let name):
            if schema.enumeration(named: name.value) == nil {
                diagnostics.error(
                    "unknown enum '\(name.value)' for field '\(field.name)' of \(owner)\(NameSuggestion.hint(for: name.value, in: schema.enums.map(\.name)))",
                    at: name.location)
            }
        case .reference(let name):
            if schema.entity(named: name.value) == nil {
                diagnostics.error(
                    "field '\(field.name)' of \(owner) refers to '\(name.value)', which is not an entity\(NameSuggestion.hint(for: name.value, in: schema.entities.map(\.name)))",
                    at: name.location)
            }
        }
    }
}
