import Foundation

/// Renders the Swift side of the schema into `Sources/Generated`: one file per enum, entity and event, and
/// `StamSchema.swift` with the schema fingerprint and the type lists.
public struct SwiftModelRenderer {
    public static let outputDirectory = "Sources/Generated"

    let schema: Schema

    public init(schema: Schema) { self.schema = schema }

    public func render(fingerprint: String) -> [GeneratedFile] {
        var files: [GeneratedFile] = []
        files += schema.enums.map { file("Enums/\($0.name).swift", from: .entities, render(enumeration: $0)) }
        if let stack = schema.alarmStack {
            files.append(file("AlarmStack.swift", from: .entities, render(alarmStack: stack)))
        }
        files += schema.entities.map { file("Entities/\($0.name).swift", from: .entities, render(entity: $0)) }
        files += schema.events.map { file("Events/\($0.name).swift", from: .events, render(event: $0)) }
        files.append(GeneratedFile(path: "\(Self.outputDirectory)/StamSchema.swift",
                                   contents: GeneratedFile.swiftHeader(source: "schema/*.yaml") + renderSchemaFile(fingerprint: fingerprint)))
        return files
    }

    private func file(_ relative: String, from source: SchemaFile, _ body: String) -> GeneratedFile {
        GeneratedFile(path: "\(Self.outputDirectory)/\(relative)", contents: GeneratedFile.swiftHeader(source: source.path) + body)
    }

    // MARK: Enums

    func render(enumeration: EnumDeclaration) -> String {
        var writer = SwiftWriter()
        writer.line("import StamCore")
        writer.line()
        writer.doc(docText(enumeration.doc, at: enumeration.location, named: enumeration.name))
        writer.block("public enum \(enumeration.name): String, Sendable, Codable, Hashable, CaseIterable") { writer in
            for value in enumeration.values {
                let name = SwiftNames.identifier(value.value)
                let plain = Naming.lowerCamelCase(value.value)
                writer.line(plain == value.value ? "case \(name)" : "case \(name) = \(SwiftNames.literal(value.value))")
            }
            if !enumeration.renamed.isEmpty {
                writer.line()
                writer.doc("Also reads the names an earlier schema used (`renamed:`), as events written before still carry them.")
                writer.block("public init?(rawValue: String)") { writer in
                    writer.block("switch rawValue") { writer in
                        for value in enumeration.values {
                            let names = ([value.value] + enumeration.oldNames(of: value.value)).map(SwiftNames.literal)
                            writer.line("case \(names.joined(separator: ", ")): self = .\(SwiftNames.identifier(value.value))")
                        }
                        writer.line("default: return nil")
                    }
                }
            }
        }
        return writer.text
    }

    // MARK: Alarm stack

    /// `AlarmPriority`'s acknowledge targets and bulk-close rule, and each `AlarmKind`'s default class.
    func render(alarmStack stack: AlarmStackDeclaration) -> String {
        let priority = AlarmStackDeclaration.priorityEnum
        let kind = AlarmStackDeclaration.kindEnum
        var writer = SwiftWriter()
        writer.line("import StamCore")
        writer.line()
        writer.doc(docText(stack.doc, at: stack.location, named: "alarm_stack",
                           extra: "The classes of the alarm stack, most urgent first: the queue is ordered by class, then by how long an alarm has waited."))
        writer.block("extension \(priority)") { writer in
            writer.doc("How long an alarm of this class may wait unacknowledged; after that it escalates.")
            writer.block("public var acknowledgeWithin: Duration") { writer in
                writer.block("switch self") { writer in
                    for alarmClass in stack.classes {
                        writer.line("case .\(SwiftNames.identifier(alarmClass.priority.value)): .seconds(\(alarmClass.acknowledgeWithinSeconds.value))")
                    }
                }
            }
            writer.line()
            writer.doc("Whether a supervisor may close a group of these alarms at once (never fire).")
            writer.block("public var bulkClosable: Bool") { writer in
                writer.block("switch self") { writer in
                    for alarmClass in stack.classes {
                        writer.line("case .\(SwiftNames.identifier(alarmClass.priority.value)): \(alarmClass.bulkClose)")
                    }
                }
            }
            writer.line()
            writer.doc("The position in the stack: 0 is the most urgent class.")
            writer.block("public var rank: Int") { writer in
                writer.line("Self.allCases.firstIndex(of: self) ?? Self.allCases.count")
            }
        }
        writer.line()
        writer.block("extension \(kind)") { writer in
            writer.doc("The class an alarm of this kind is stacked in, unless its source names another.")
            writer.block("public var defaultPriority: \(priority)") { writer in
                writer.block("switch self") { writer in
                    for alarmClass in stack.classes {
                        for kindValue in alarmClass.kinds {
                            writer.line("case .\(SwiftNames.identifier(kindValue.value)): .\(SwiftNames.identifier(alarmClass.priority.value))")
                        }
                    }
                }
            }
        }
        return writer.text
    }

    // MARK: Entities

    func render(entity: EntityDeclaration) -> String {
        var writer = SwiftWriter()
        writer.line("import Foundation")
        writer.line("import StamCore")
        writer.line()
        writer.doc(docText(entity.doc, at: entity.location, named: entity.name, extra: "Table `\(entity.table.value)`."))
        writer.block("public struct \(entity.name): Entity") { writer in
            writer.line("public static let tableName = \(SwiftNames.literal(entity.table.value))")
            writer.line("public static let columnNames: [String] = [\(entity.fields.map { SwiftNames.literal($0.name) }.joined(separator: ", "))]")
            if let key = entity.primaryKey, key.name != "id" {
                writer.line()
                writer.line("public var id: \(swiftType(of: key, optional: false)) { \(SwiftNames.identifier(key.name)) }")
            }
            renderStoredProperties(entity.fields, of: entity.name, into: &writer)
        }
        writer.line()
        renderJSONWriter(for: entity, into: &writer)
        return writer.text
    }

    /// `writeJSON(to:)`: the API's fast encoding, keys sorted like `JSONEncoder`'s `.sortedKeys`, secrets null.
    func renderJSONWriter(for entity: EntityDeclaration, into writer: inout SwiftWriter) {
        writer.block("extension \(entity.name): JSONWritable") { writer in
            writer.block("public func writeJSON(to writer: inout JSONWriter)") { writer in
                writer.line("writer.beginObject()")
                for field in entity.fields.sorted(by: { $0.name < $1.name }) {
                    let name = "self." + Naming.lowerCamelCase(field.name)
                    writer.line("writer.key(\(SwiftNames.literal(field.name)))")
                    let call: (String) -> String = { value in
                        switch field.kind {
                        case .scalar(.double), .scalar(.decimal): "writer.value(encoded: \(value))"
                        default: "writer.value(\(value))"
                        }
                    }
                    if field.optional {
                        writer.line("if let value = \(name) { \(call("value")) } else { writer.null() }")
                    } else {
                        writer.line(call(name))
                    }
                }
                writer.line("writer.endObject()")
            }
        }
    }

    // MARK: Events

    func render(event: EventDeclaration) -> String {
        var writer = SwiftWriter()
        writer.line("import Foundation")
        writer.line("import StamCore")
        writer.line()
        writer.doc(docText(event.doc, at: event.location, named: event.name,
                           extra: "Published to `\(event.exchange.value)` with routing key `\(event.routingKey.value)`; ordered per \(event.aggregate.value)."))
        writer.block("public struct \(event.name): OutboxEvent") { writer in
            writer.line("public static let eventName = \(SwiftNames.literal(event.name))")
            writer.line("public static let aggregateType = \(SwiftNames.literal(event.aggregate.value))")
            writer.line("public static let exchange = \(SwiftNames.literal(event.exchange.value))")
            writer.line("public static let routingKey = \(SwiftNames.literal(event.routingKey.value))")
            writer.line("public static let schemaVersion = \(event.version)")
            writer.line()
            writer.line("public var aggregateId: UUID { \(SwiftNames.identifier(event.aggregateField.value)) }")
            let scopeField = { (name: String) -> String in
                event.payload.first { $0.name == name && $0.kind == .scalar(.uuid) }.map { SwiftNames.identifier($0.name) } ?? "nil"
            }
            writer.line("public var scope: EventScope { EventScope(siteId: \(scopeField("site_id")), panelId: \(scopeField("panel_id"))) }")
            renderStoredProperties(event.payload, of: event.name, into: &writer)
        }
        return writer.text
    }

    // MARK: StamSchema

    func renderSchemaFile(fingerprint: String) -> String {
        var writer = SwiftWriter()
        writer.line("import StamCore")
        writer.line()
        writer.doc("What this build of stam was generated from.")
        writer.block("public enum StamSchema") { writer in
            writer.doc("SHA-256 over the schema files; changes whenever the schema does.")
            writer.line("public static let fingerprint = \(SwiftNames.literal(fingerprint))")
            writer.line()
            writer.line("public static let entityTypes: [any Entity.Type] = [")
            for entity in schema.entities { writer.line("    \(entity.name).self,") }
            writer.line("]")
            writer.line()
            writer.line("public static let eventTypes: [any OutboxEvent.Type] = [")
            for event in schema.events { writer.line("    \(event.name).self,") }
            writer.line("]")
            writer.line()
            writer.doc("The columns that hold personal data (`personal:`), which `stam snapshot` replaces for STAGE.")
            writer.line("public static let personalColumns: [PersonalColumn] = [")
            for entity in schema.entities {
                for field in entity.fields {
                    guard let kind = field.personal?.value, case .scalar(let type) = field.kind else { continue }
                    let storage = switch type {
                    case .bytes, .secret: "bytea"
                    case .json: "jsonb"
                    default: "text"
                    }
                    writer.line("    .init(table: \(SwiftNames.literal(entity.table.value)), column: \(SwiftNames.literal(field.name)), kind: .\(kind.rawValue), "
                                + "storage: .\(storage), optional: \(field.optional), maxLength: \(field.maxLength.map { String($0.value) } ?? "nil")),")
                }
            }
            writer.line("]")
        }
        return writer.text
    }

    // MARK: Shared

    /// Properties, a memberwise initialiser with the schema's defaults, and snake_case coding keys.
    private func renderStoredProperties(_ fields: [FieldDeclaration], of owner: String, into writer: inout SwiftWriter) {
        for field in fields {
            writer.line()
            writer.doc(docText(field.doc, at: field.location, named: "\(owner).\(field.name)"))
            writer.line("public var \(SwiftNames.identifier(field.name)): \(swiftType(of: field, optional: field.optional))")
        }
        writer.line()
        let parameters = fields.map { field in
            "\(SwiftNames.identifier(field.name)): \(swiftType(of: field, optional: field.optional))"
                + (swiftDefault(of: field).map { " = \($0)" } ?? "")
        }
        writer.line("public init(")
        for (index, parameter) in parameters.enumerated() {
            writer.line("    " + parameter + (index == parameters.count - 1 ? "" : ","))
        }
        writer.block(")") { writer in
            for field in fields {
                let name = Naming.lowerCamelCase(field.name)
                writer.line("self.\(name) = \(SwiftNames.identifier(field.name))")
            }
        }
        writer.line()
        writer.block("enum CodingKeys: String, CodingKey") { writer in
            for field in fields {
                let name = SwiftNames.identifier(field.name)
                writer.line(Naming.lowerCamelCase(field.name) == field.name ? "case \(name)" : "case \(name) = \(SwiftNames.literal(field.name))")
            }
        }
    }

    func swiftType(of field: FieldDeclaration, optional: Bool) -> String {
        let base: String
        switch field.kind {
        case .enumeration(let name):
            base = name.value
        case .reference(let target):
            base = schema.entity(named: target.value)?.primaryKey.map { swiftType(of: $0, optional: false) } ?? "UUID"
        case .scalar(let type):
            base = switch type {
            case .uuid: "UUID"
            case .string, .text: "String"
            case .int: "Int"
            case .bigint: "Int64"
            case .double: "Double"
            case .decimal: "Decimal"
            case .bool: "Bool"
            case .timestamp, .date: "Date"
            case .json: "JSONValue"
            case .bytes: "Data"
            case .secret: "Secret"
            }
        }
        return optional ? base + "?" : base
    }

    func swiftDefault(of field: FieldDeclaration) -> String? {
        guard let value = field.defaultValue?.value else { return field.optional ? "nil" : nil }
        switch (value, field.kind) {
        case (.now, _): return "Date()"
        case (.random, _): return "UUID()"
        case (.literal(let text), .enumeration): return "." + SwiftNames.identifier(text)
        case (.literal(let text), .scalar(.string)), (.literal(let text), .scalar(.text)): return SwiftNames.literal(text)
        case (.literal(let text), .scalar(.uuid)): return "UUID(uuidString: \(SwiftNames.literal(text)))!"
        case (.literal(let text), .scalar(.int)), (.literal(let text), .scalar(.bigint)),
             (.literal(let text), .scalar(.double)), (.literal(let text), .scalar(.bool)):
            return text
        default: return field.optional ? "nil" : nil
        }
    }

    /// The schema's doc text plus where it was declared, so a reader can find the source of any type: the file and
    /// the declaration's name (`schema/entities.yaml#Zone.name`), not its line, which moves with every edit above it.
    func docText(_ doc: String?, at location: SourceLocation, named name: String, extra: String? = nil) -> String {
        var parts: [String] = []
        if let doc { parts.append(doc.trimmingCharacters(in: .whitespacesAndNewlines)) }
        if let extra { parts.append(extra) }
        parts.append("Declared at \(location.file)#\(name).")
        return parts.joined(separator: "\n\n")
    }
}
