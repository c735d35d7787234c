import Foundation

/// Renders the operator API's CRUD routes into `Sources/GeneratedAPI` (Hummingbird 2 over the generated
/// repositories and the runtime's `APISupport`): one `<Entity>Routes` per entity with an `api:` section and
/// `APIRoutes`, which registers them all. Every route checks the roles the schema names; bodies are
/// validated field by field (type, max length, enum, null) into one 422 naming every bad field; updates are
/// PATCH with `If-Match: "<version>"` when the entity has a `version`; secrets are accepted, never returned.
public struct SwiftRouteRenderer {
    public static let outputDirectory = "Sources/GeneratedAPI"

    let schema: Schema
    private let models: SwiftModelRenderer

    public init(schema: Schema) {
        self.schema = schema
        models = SwiftModelRenderer(schema: schema)
    }

    /// Fields the server manages whatever the schema says.
    static let serverManaged: Set<String> = ["version", "created_at", "updated_at"]

    /// `/api/<table with dashes>`.
    static func path(of entity: EntityDeclaration) -> String { "/api/" + entity.table.value.replacingOccurrences(of: "_", with: "-") }

    /// Fields a create or update body may carry.
    static func writableFields(of entity: EntityDeclaration) -> [FieldDeclaration] {
        entity.fields.filter { !$0.primary && !$0.readonly && !serverManaged.contains($0.name) }
    }

    /// `/api/<entity path>/:id/<action with dashes>`; a collection action's `/api/<entity path>/<action with dashes>`.
    static func actionPath(_ action: ActionDeclaration, of entity: EntityDeclaration) -> String {
        path(of: entity) + (action.onCollection ? "/" : "/:id/") + action.name.replacingOccurrences(of: "_", with: "-")
    }

    /// Whether the entity has a generated create, update or delete (its routes then need a `WriteAudit`).
    static func writes(_ entity: EntityDeclaration) -> Bool {
        guard let api = entity.api else { return false }
        return api.roles[.create] != nil || api.roles[.update] != nil || api.roles[.delete] != nil
    }

    static func hasVersion(_ entity: EntityDeclaration) -> Bool {
        entity.fields.contains { $0.name == "version" && $0.kind == .scalar(.int) && !$0.optional }
    }

    public func render() -> [GeneratedFile] {
        let routed = schema.entities.filter { $0.api != nil && $0.primaryKey != nil }
        var files = routed.map { entity in
            GeneratedFile(path: "\(Self.outputDirectory)/\(entity.name)Routes.swift",
                          contents: GeneratedFile.swiftHeader(source: SchemaFile.entities.path) + render(entity: entity))
        }
        files.append(GeneratedFile(path: "\(Self.outputDirectory)/APIRoutes.swift",
                                   contents: GeneratedFile.swiftHeader(source: SchemaFile.entities.path) + renderAggregate(routed)))
        return files
    }

    func renderAggregate(_ routed: [EntityDeclaration]) -> String {
        var writer = SwiftWriter()
        writer.line("import APISupport")
        writer.line("import Generated")
        writer.line("import Hummingbird")
        writer.line()
        writer.doc("Registers every generated CRUD route on an authenticated router group.")
        writer.block("public enum APIRoutes") { writer in
            writer.doc("Every generated route: method, path (`:id` for the primary key) and the roles allowed.")
            writer.line("public static let table: [(method: String, path: String, roles: [String])] = [")
            for entity in routed {
                let api = entity.api!
                let path = Self.path(of: entity)
                let operations: [(APIDeclaration.Operation, String, String)] = [
                    (.list, "GET", path), (.read, "GET", path + "/:id"), (.create, "POST", path),
                    (.update, "PATCH", path + "/:id"), (.delete, "DELETE", path + "/:id"),
                ]
                for (operation, method, route) in operations {
                    guard let roles = api.roles[operation] else { continue }
                    writer.line("    (\(SwiftNames.literal(method)), \(SwiftNames.literal(route)), \(rolesLiteral(roles))),")
                }
                for action in entity.actions {
                    writer.line("    (\"POST\", \(SwiftNames.literal(Self.actionPath(action, of: entity))), \(rolesLiteral(action.roles))),")
                }
            }
            writer.line("]")
            writer.line()
            writer.doc("`listCache`: the backend's cache for the lists whose schema declares `list_cache:` (nil: none cached).")
            writer.doc("`audit`: where every generated create, update and delete is recorded, in the write's transaction.")
            writer.block("public static func register(on group: RouterGroup<StamRequestContext>, repositories: Repositories, actions: APIActionHandlers, audit: any WriteAudit, listCache: ListCache? = nil)") { writer in
                for entity in routed {
                    let cache = entity.api?.listCache == nil ? "" : ", cache: listCache"
                    let audit = Self.writes(entity) ? ", audit: audit" : ""
                    let routes = "\(entity.name)Routes(repository: repositories.\(SwiftRepositoryRenderer.propertyName(of: entity))\(audit)\(cache))"
                    writer.line("\(routes).register(on: group)")
                    if !entity.actions.isEmpty {
                        writer.line("\(routes).register(actions: actions.\(SwiftRepositoryRenderer.propertyName(of: entity)), on: group)")
                    }
                }
            }
        }
        writer.line()
        writer.doc("The hand-written handlers of the schema's `actions:` (state machines, commands, passwords).")
        writer.block("public struct APIActionHandlers: Sendable") { writer in
            let withActions = routed.filter { !$0.actions.isEmpty }
            for entity in withActions {
                writer.line("public var \(SwiftRepositoryRenderer.propertyName(of: entity)): any \(entity.name)Actions")
            }
            writer.line()
            let parameters = withActions.map { "\(SwiftRepositoryRenderer.propertyName(of: $0)): any \($0.name)Actions" }
            writer.block("public init(\(parameters.joined(separator: ", ")))") { writer in
                for entity in withActions {
                    let name = SwiftRepositoryRenderer.propertyName(of: entity)
                    writer.line("self.\(name) = \(name)")
                }
            }
        }
        return writer.text
    }

    func render(entity: EntityDeclaration) -> String {
        let api = entity.api!
        let key = entity.primaryKey!
        let path = String(Self.path(of: entity).dropFirst("/api/".count))
        let writable = Self.writableFields(of: entity)
        let filters = api.filters.compactMap { entity.field(named: $0.value) }
        let ranges = api.ranges.compactMap { entity.field(named: $0.value) }
        let defaultSort = (api.sort.first?.value ?? key.name)
        var writer = SwiftWriter()
        for module in ["APISupport", "Foundation", "Generated", "Hummingbird", "Persistence", "PostgresNIO", "StamCore"] {
            writer.line("import \(module)")
        }
        writer.line()
        writer.doc(models.docText("The `\(Self.path(of: entity))` routes of `\(entity.name)`.", at: api.location, named: "\(entity.name).api"))
        if !entity.actions.isEmpty {
            writer.doc("The `actions:` of `\(entity.name)`, implemented by hand (the backend). The route has checked the role and parsed the id.")
            writer.block("public protocol \(entity.name)Actions: Sendable") { writer in
                for action in entity.actions {
                    writer.doc(models.docText(action.doc, at: action.location, named: "\(entity.name).actions.\(action.name)", extra: "`POST \(Self.actionPath(action, of: entity).replacingOccurrences(of: ":id", with: "{id}"))`."))
                    let body = action.body.isEmpty ? "" : "body: \(Self.bodyType(action, of: entity)), "
                    let id = action.onCollection ? "" : "id: \(models.swiftType(of: key, optional: false)), "
                    writer.line("func \(SwiftNames.identifier(action.name))(\(id)\(body)principal: Principal, request: Request, context: StamRequestContext) async throws -> Response")
                }
            }
            writer.line()
            for action in entity.actions where !action.body.isEmpty {
                renderBody(action, of: entity, into: &writer)
                writer.line()
            }
        }
        let writes = Self.writes(entity)
        let auditParameter = writes ? ", audit: any WriteAudit" : ""
        writer.block("public struct \(entity.name)Routes: Sendable") { writer in
            writer.line("public let repository: \(entity.name)Repository")
            if writes {
                writer.doc("Records each create, update and delete with its changed fields, in the write's transaction.")
                writer.line("public let audit: any WriteAudit")
            }
            // Only an entity with `list_cache:` carries the backend's cache; the others' lists read the database.
            if let cache = api.listCache {
                writer.doc("The backend's list cache (nil: every list reads the database).")
                writer.line("public let cache: ListCache?")
                writer.line()
                writer.block("public init(repository: \(entity.name)Repository\(auditParameter), cache: ListCache? = nil)") { writer in
                    writer.line("self.repository = repository")
                    if writes { writer.line("self.audit = audit") }
                    writer.line("self.cache = cache")
                    writer.line("cache?.register(Self.listCache)")
                }
                writer.line()
                writer.doc(models.docText("`list_cache:` of `\(entity.name)`.", at: cache.location, named: "\(entity.name).api.list_cache"))
                let events = cache.invalidatedBy.map { SwiftNames.literal($0.value) }.joined(separator: ", ")
                writer.line("public static let listCache = ListCachePolicy(entity: \(SwiftNames.literal(entity.name)), maxAge: .seconds(\(cache.maxAgeSeconds)), invalidatedBy: [\(events)])")
            } else {
                writer.line()
                if writes {
                    writer.block("public init(repository: \(entity.name)Repository, audit: any WriteAudit)") { writer in
                        writer.line("self.repository = repository")
                        writer.line("self.audit = audit")
                    }
                } else {
                    writer.line("public init(repository: \(entity.name)Repository) { self.repository = repository }")
                }
            }
            writer.line()
            writer.line("static let writableFields: Set<String> = [\(writable.map { SwiftNames.literal($0.name) }.joined(separator: ", "))]")
            writer.line()
            writer.block("public func register(on group: RouterGroup<StamRequestContext>)") { writer in
                if api.roles[.list] != nil { writer.line("group.get(\(SwiftNames.literal(path)), use: list)") }
                if api.roles[.read] != nil { writer.line("group.get(\(SwiftNames.literal(path + "/:id")), use: read)") }
                if api.roles[.create] != nil { writer.line("group.post(\(SwiftNames.literal(path)), use: create)") }
                if api.roles[.update] != nil { writer.line("group.patch(\(SwiftNames.literal(path + "/:id")), use: update)") }
                if api.roles[.delete] != nil { writer.line("group.delete(\(SwiftNames.literal(path + "/:id")), use: delete)") }
            }
            if !entity.actions.isEmpty {
                writer.line()
                writer.block("public func register(actions handler: any \(entity.name)Actions, on group: RouterGroup<StamRequestContext>)") { writer in
                    for action in entity.actions {
                        let route = String(Self.actionPath(action, of: entity).dropFirst("/api/".count))
                        writer.closure("group.post(\(SwiftNames.literal(route)))", parameters: "request, context") { writer in
                            writer.line("let principal = try context.require(roles: \(rolesLiteral(action.roles)))")
                            var arguments: [String] = []
                            if !action.onCollection {
                                writer.line("let id = try \(parameterExpression(key))")
                                arguments.append("id: id")
                            }
                            if !action.body.isEmpty {
                                writer.line("let body = try await \(Self.bodyType(action, of: entity))(request: request, context: context)")
                                arguments.append("body: body")
                            }
                            arguments += ["principal: principal", "request: request", "context: context"]
                            writer.line("return try await handler.\(SwiftNames.identifier(action.name))(\(arguments.joined(separator: ", ")))")
                        }
                    }
                }
            }
            if let roles = api.roles[.list] {
                writer.line()
                renderList(entity, roles: roles, filters: filters, ranges: ranges, defaultSort: defaultSort, into: &writer)
            }
            if let roles = api.roles[.read] {
                writer.line()
                writer.block("@Sendable func read(_ request: Request, context: StamRequestContext) async throws -> Response") { writer in
                    writer.line("_ = try context.require(roles: \(rolesLiteral(roles)))")
                    writer.line("let id = try \(parameterExpression(key))")
                    writer.line("guard let value = try await repository.find(\(SwiftNames.identifier(key.name)): id) else { throw APIError.notFound(\"no \(entity.table.value) row \\(id)\") }")
                    writer.line("return try APIResponse.json(value, headers: \(etag(entity, "value")))")
                }
            }
            if let roles = api.roles[.create] {
                writer.line()
                renderCreate(entity, roles: roles, writable: writable, into: &writer)
            }
            if let roles = api.roles[.update] {
                writer.line()
                renderUpdate(entity, key: key, roles: roles, writable: writable, into: &writer)
            }
            if let roles = api.roles[.delete] {
                writer.line()
                writer.block("@Sendable func delete(_ request: Request, context: StamRequestContext) async throws -> Response") { writer in
                    writer.line("_ = try context.require(roles: \(rolesLiteral(roles)))")
                    writer.line("let id = try \(parameterExpression(key))")
                    writer.block("do") { writer in
                        writer.closure("try await repository.context.transaction", parameters: "connection") { writer in
                            writer.line("guard let before = try await repository.find(\(SwiftNames.identifier(key.name)): id, on: connection), try await repository.delete(\(SwiftNames.identifier(key.name)): id, on: connection) else { throw APIError.notFound(\"no \(entity.table.value) row \\(id)\") }")
                            writer.line("try await audit.record(\(auditedChange(entity, "delete", before: "before", after: "nil")), context: context, on: connection)")
                        }
                    }
                    writer.line("catch let error as PSQLError { throw APIError.from(database: error, table: \(SwiftNames.literal(entity.table.value))) ?? error }")
                    writer.line("return Response(status: .noContent)")
                }
            }
        }
        return writer.text
    }

    private func renderList(_ entity: EntityDeclaration, roles: [Located<String>], filters: [FieldDeclaration], ranges: [FieldDeclaration],
                            defaultSort: String, into writer: inout SwiftWriter) {
        writer.block("@Sendable func list(_ request: Request, context: StamRequestContext) async throws -> Response") { writer in
            writer.line("_ = try context.require(roles: \(rolesLiteral(roles)))")
            writer.line("var query = QueryReader(request)")
            writer.line("var filter = \(entity.name)Repository.Filter()")
            for field in filters {
                writer.line("filter.\(Naming.lowerCamelCase(field.name)) = \(queryExpression(field))")
            }
            for field in ranges {
                let bounds = SwiftRepositoryRenderer.rangeBounds(of: field)
                for bound in [bounds.from, bounds.to] {
                    writer.line("filter.\(Naming.lowerCamelCase(bound)) = \(queryExpression(field, name: bound))")
                }
            }
            writer.line("let page = query.page(defaultSort: \(entity.name)Repository.Sort.\(SwiftNames.identifier(defaultSort)))")
            writer.line("try query.finish()")
            let cached = entity.api?.listCache != nil
            writer.block("return try await APIResponse.list(\(cached ? "cache: cache, policy: Self.listCache, " : "")request: request)") { writer in
                writer.block("do") { writer in
                    writer.line("let result = try await repository.list(filter: filter, sort: page.sort, direction: page.direction, after: page.after, limit: page.limit)")
                    writer.line("return APIResponse.jsonBody(PageBody(items: result.items, nextCursor: result.nextCursor))")
                }
                writer.block("catch let error as RepositoryError where error.code == .invalidCursor") { writer in
                    writer.line("throw APIError.invalid(field: \"after\", error.message)")
                }
            }
        }
    }

    private func renderCreate(_ entity: EntityDeclaration, roles: [Located<String>], writable: [FieldDeclaration], into writer: inout SwiftWriter) {
        let required = writable.filter { !$0.optional && models.swiftDefault(of: $0) == nil }
        writer.block("@Sendable func create(_ request: Request, context: StamRequestContext) async throws -> Response") { writer in
            writer.line("_ = try context.require(roles: \(rolesLiteral(roles)))")
            writer.line("var input = try JSONObjectReader(body: try await APIResponse.body(of: request, context: context), allowed: Self.writableFields)")
            for field in writable {
                writer.line("let \(SwiftNames.identifier(field.name)) = \(inputExpression(field))")
            }
            for field in required {
                writer.line("input.require(\(SwiftNames.literal(field.name)), \(SwiftNames.identifier(field.name)))")
            }
            writer.line("try input.finish()")
            writer.comment("finish() has thrown unless every required field is present and valid.")
            let arguments = required.map { "\(SwiftNames.identifier($0.name)): \(SwiftNames.identifier($0.name))!!" }
            writer.line("\(writable.count > required.count ? "var" : "let") value = \(entity.name)(\(arguments.joined(separator: ", ")))")
            for field in writable where !required.contains(field) {
                assign(field, into: &writer)
            }
            for field in writable { checkSelectedFormat(field, of: entity, onlyIfSent: false, into: &writer) }
            writer.block("do") { writer in
                writer.closure("let stored = try await repository.context.transaction", parameters: "connection") { writer in
                    writer.line("let stored = try await repository.insert(value, on: connection)")
                    writer.line("try await audit.record(\(auditedChange(entity, "create", before: "nil", after: "stored")), context: context, on: connection)")
                    writer.line("return stored")
                }
                let key = entity.primaryKey!
                writer.line("var headers = \(etag(entity, "stored"))")
                writer.line("headers[.location] = \"\(Self.path(of: entity))/\\(stored.\(Naming.lowerCamelCase(key.name)))\"")
                writer.line("return try APIResponse.json(stored, status: .created, headers: headers)")
            }
            writer.line("catch let error as PSQLError { throw APIError.from(database: error, table: \(SwiftNames.literal(entity.table.value))) ?? error }")
        }
    }

    private func renderUpdate(_ entity: EntityDeclaration, key: FieldDeclaration, roles: [Located<String>], writable: [FieldDeclaration],
                              into writer: inout SwiftWriter) {
        let versioned = Self.hasVersion(entity)
        writer.block("@Sendable func update(_ request: Request, context: StamRequestContext) async throws -> Response") { writer in
            writer.line("_ = try context.require(roles: \(rolesLiteral(roles)))")
            writer.line("let id = try \(parameterExpression(key))")
            if versioned {
                writer.line("let expectedVersion = try APIResponse.requireIfMatch(request)")
            }
            writer.line("var input = try JSONObjectReader(body: try await APIResponse.body(of: request, context: context), allowed: Self.writableFields)")
            for field in writable {
                writer.line("let \(SwiftNames.identifier(field.name)) = \(inputExpression(field))")
            }
            writer.line("try input.finish()")
            writer.line("guard var value = try await repository.find(\(SwiftNames.identifier(key.name)): id) else { throw APIError.notFound(\"no \(entity.table.value) row \\(id)\") }")
            if versioned {
                writer.comment("The version the caller read (none for `If-Match: *`): the repository refuses the write if the row moved on since.")
                writer.line("if let expectedVersion { value.version = expectedVersion }")
            }
            writer.line("let before = value")
            for field in writable { assign(field, into: &writer) }
            for field in writable { checkSelectedFormat(field, of: entity, onlyIfSent: true, into: &writer) }
            writer.block("do") { writer in
                writer.closure("let stored = try await repository.context.transaction", parameters: "connection") { writer in
                    // Only what the API may write: a station-maintained column read above may have changed since.
                    writer.line("let stored = try await repository.\(entity.fields.contains(where: \.readonly) ? "updateEditable" : "update")(value, on: connection)")
                    writer.line("try await audit.record(\(auditedChange(entity, "update", before: "before", after: "stored")), context: context, on: connection)")
                    writer.line("return stored")
                }
                writer.line("return try APIResponse.json(stored, headers: \(etag(entity, "stored")))")
            }
            writer.line("catch let error as PSQLError { throw APIError.from(database: error, table: \(SwiftNames.literal(entity.table.value))) ?? error }")
            writer.line("catch let error as RepositoryError { throw APIError.from(repository: error) }")
        }
    }

    // MARK: Action bodies

    /// `<Entity><Action>Body`: the type an action's body is read into.
    static func bodyType(_ action: ActionDeclaration, of entity: EntityDeclaration) -> String {
        entity.name + Naming.upperCamelCase(action.name) + "Body"
    }

    /// The body of an action as a type: read by the route with the schema's rules (400 for a body that is not a
    /// JSON object, 422 naming every bad field), so the handler gets values it need not check again.
    private func renderBody(_ action: ActionDeclaration, of entity: EntityDeclaration, into writer: inout SwiftWriter) {
        let type = Self.bodyType(action, of: entity)
        writer.doc(models.docText("The body of `POST \(Self.actionPath(action, of: entity).replacingOccurrences(of: ":id", with: "{id}"))`.", at: action.location, named: "\(entity.name).actions.\(action.name).body"))
        writer.block("public struct \(type): Sendable, Hashable") { writer in
            for field in action.body {
                if let doc = field.doc { writer.doc(doc) }
                writer.line("public var \(SwiftNames.identifier(field.name)): \(bodySwiftType(field))")
            }
            writer.line()
            writer.line("static let fields: Set<String> = [\(action.body.map { SwiftNames.literal($0.name) }.joined(separator: ", "))]")
            writer.line()
            let parameters = action.body.map { "\(Naming.lowerCamelCase($0.name)): \(bodySwiftType($0))\($0.optional ? " = nil" : "")" }
            writer.block("public init(\(parameters.joined(separator: ", ")))") { writer in
                for field in action.body {
                    let name = SwiftNames.identifier(field.name)
                    writer.line("self.\(name) = \(Naming.lowerCamelCase(field.name))")
                }
            }
            writer.line()
            writer.block("public init(request: Request, context: StamRequestContext) async throws") { writer in
                writer.line("var input = try JSONObjectReader(body: try await APIResponse.body(of: request, context: context), allowed: Self.fields)")
                for field in action.body {
                    let name = SwiftNames.identifier(field.name)
                    writer.line("let \(name) = \(bodyInputExpression(field))")
                    if !field.optional { writer.line("input.require(\(SwiftNames.literal(field.name)), \(name))") }
                }
                writer.line("try input.finish()")
                for field in action.body {
                    let name = SwiftNames.identifier(field.name)
                    if field.optional {
                        writer.line("self.\(name) = \(name).flatMap { $0 }")
                    } else {
                        writer.line("self.\(name) = try input.value(\(SwiftNames.literal(field.name)), \(name))")
                    }
                }
            }
        }
    }

    private func bodySwiftType(_ field: FieldDeclaration) -> String {
        let element: String = switch field.kind {
        case .scalar(.secret): "String"
        default: models.swiftType(of: field, optional: false)
        }
        let value = field.list?.value == true ? "[\(element)]" : element
        return field.optional ? value + "?" : value
    }

    private func bodyInputExpression(_ field: FieldDeclaration) -> String {
        let name = SwiftNames.literal(field.name)
        if field.list?.value == true, let range = field.range?.value {
            return "input.intList(\(name), range: \(range.lowerBound)...\(range.upperBound), optional: \(field.optional))"
        }
        if field.list?.value == true, case .reference = field.kind {
            return "input.uuidList(\(name), optional: \(field.optional))"
        }
        if field.list?.value == true {
            return "input.intList(\(name), range: -2147483648...2147483647, optional: \(field.optional))"
        }
        if field.kind == .scalar(.secret) {
            // In a body a secret is text the handler uses at once (a password to hash): a single-line string's rules.
            var extra = ", max: \(field.maxLength.map { String($0.value) } ?? "1024")"
            if let min = field.minLength?.value, min > 0 { extra += ", min: \(min)" }
            return "input.string(\(name)\(extra), lineBreaks: false, optional: \(field.optional))"
        }
        return inputExpression(field)
    }

    // MARK: Helpers

    /// `AuditedChange(...)` for a write of `entity`; `before`/`after` are Swift expressions (`nil` for none).
    private func auditedChange(_ entity: EntityDeclaration, _ operation: String, before: String, after: String) -> String {
        let key = entity.primaryKey!
        let keyName = Naming.lowerCamelCase(key.name)
        let row = after == "nil" ? before : after
        let id = key.kind == .scalar(.uuid) ? "\(row).\(keyName)" : "nil"
        let secrets = entity.fields.filter { $0.kind == .scalar(.secret) }.map { field -> String in
            let name = Naming.lowerCamelCase(field.name)
            let changed = switch operation {
            case "create": field.optional ? "\(after).\(name) != nil" : "true"
            case "update": "\(before).\(name) != \(after).\(name)"
            default: "false"
            }
            return "\(SwiftNames.literal(field.name)): \(changed)"
        }
        let typed = { (expression: String) in expression == "nil" ? "nil as \(entity.name)?" : expression }
        return "AuditedChange(action: \(SwiftNames.literal(Naming.snakeCase(entity.name) + "." + operation)), entityType: \(SwiftNames.literal(entity.name)), "
            + "entityId: \(id), before: \(typed(before)), after: \(typed(after)), secrets: [\(secrets.isEmpty ? ":" : secrets.joined(separator: ", "))])"
    }

    private func rolesLiteral(_ roles: [Located<String>]) -> String {
        "[" + roles.map { SwiftNames.literal($0.value) }.joined(separator: ", ") + "]"
    }

    private func etag(_ entity: EntityDeclaration, _ value: String) -> String {
        Self.hasVersion(entity) ? "APIResponse.etag(version: \(value).version)" : "HTTPFields()"
    }

    private func parameterExpression(_ key: FieldDeclaration) -> String {
        switch key.kind {
        case .scalar(.int): "APIResponse.intParameter(context)"
        case .scalar(.string), .scalar(.text): "APIResponse.stringParameter(context)"
        default: "APIResponse.uuidParameter(context)"
        }
    }

    /// Assigns a field read from the body when it was present (`T??`: absent, null, value).
    private func assign(_ field: FieldDeclaration, into writer: inout SwiftWriter) {
        let name = SwiftNames.identifier(field.name)
        let property = Naming.lowerCamelCase(field.name)
        if field.optional {
            writer.line("if let \(name) { value.\(property) = \(name) }")
        } else {
            writer.line("if case let \(name)?? = \(name) { value.\(property) = \(name) }")
        }
    }

    /// `format: { by: ... }`: the row as it will be written, the field's format picked by its selector's value. An
    /// update checks it when the request sends either of the two, so a row stored before the rule can still be
    /// changed in other fields.
    private func checkSelectedFormat(_ field: FieldDeclaration, of entity: EntityDeclaration, onlyIfSent: Bool, into writer: inout SwiftWriter) {
        guard let selection = field.formatBy?.value, let selector = entity.field(named: selection.selector.value) else { return }
        let text = "value.\(Naming.lowerCamelCase(field.name))\(field.optional ? "?" : "").revealed"
        let selected = "value.\(Naming.lowerCamelCase(selector.name))\(selector.optional ? "?" : "").rawValue"
        let formats = selection.formats.map { "\(SwiftNames.literal($0.value.value)): .\(Naming.lowerCamelCase($0.format.rawValue))" }
        let check = "try SelectedFormat.check(\(SwiftNames.literal(field.name)), \(text), selector: \(SwiftNames.literal(selector.name)), "
            + "selected: \(selected), formats: [\(formats.joined(separator: ", "))])"
        writer.comment("\(field.name)'s format follows \(selector.name) (schema: format by \(selector.name)).")
        if onlyIfSent {
            writer.line("if \(SwiftNames.identifier(field.name)) != nil || \(SwiftNames.identifier(selector.name)) != nil { \(check) }")
        } else {
            writer.line(check)
        }
    }

    private func readerMethod(_ field: FieldDeclaration) -> (name: String, extra: String) {
        switch field.kind {
        case .enumeration(let name): return ("enumeration", ", \(name.value).self")
        case .reference(let target):
            let key = schema.entity(named: target.value)?.primaryKey
            return key.map { readerMethod($0) } ?? ("uuid", "")
        case .scalar(let type):
            switch type {
            case .uuid: return ("uuid", "")
            case .string, .text:
                var extra = ", max: \(field.maxLength.map { String($0.value) } ?? "nil")"
                if let min = field.minLength?.value, min > 0 { extra += ", min: \(min)" }
                if let format = field.format?.value { extra += ", format: .\(Naming.lowerCamelCase(format.rawValue))" }
                // A single-line string refuses line breaks too; a text field allows tab and line breaks.
                extra += ", lineBreaks: \(type == .text)"
                return ("string", extra)
            case .secret: return ("secret", ", max: \(field.maxLength.map { String($0.value) } ?? "1024")")
            case .int: return ("int", field.range.map { ", range: \($0.value.lowerBound)...\($0.value.upperBound)" } ?? "")
            case .bigint: return ("int64", field.range.map { ", range: \($0.value.lowerBound)...\($0.value.upperBound)" } ?? "")
            case .double: return ("double", "")
            case .decimal: return ("decimal", "")
            case .bool: return ("bool", "")
            case .timestamp, .date: return ("date", "")
            case .json: return ("json", "")
            case .bytes: return ("bytes", "")
            }
        }
    }

    private func inputExpression(_ field: FieldDeclaration) -> String {
        let method = readerMethod(field)
        return "input.\(method.name)(\(SwiftNames.literal(field.name))\(method.extra), optional: \(field.optional))"
    }

    /// Reads the query parameter `name` (the field's own by default) with the field's rules.
    private func queryExpression(_ field: FieldDeclaration, name: String? = nil) -> String {
        var method = readerMethod(field)
        if method.name == "string" { method.extra = field.maxLength.map { ", max: \($0.value)" } ?? "" }
        return "query.\(method.name)(\(SwiftNames.literal(name ?? field.name))\(method.extra))"
    }
}
