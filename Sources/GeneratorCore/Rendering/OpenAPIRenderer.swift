import Foundation
import StamCore

/// Renders the OpenAPI 3.1 document of the operator API from the same model as the routes
/// (`SwiftRouteRenderer`): `openapi.json` beside the routes, for people and validators, which SwiftPM embeds in
/// the binary (`.embedInCode`), and `OpenAPIDocument.swift`, through which the backend serves it at `/openapi.json`.
public struct OpenAPIRenderer {
    public static let documentPath = "\(SwiftRouteRenderer.outputDirectory)/openapi.json"

    let schema: Schema

    public init(schema: Schema) { self.schema = schema }

    public func render() -> [GeneratedFile] {
        let json = document()
        let swift = GeneratedFile.swiftHeader(source: SchemaFile.entities.path) + """
            /// The OpenAPI 3.1 document of the operator API (`openapi.json` beside this file, embedded by SwiftPM), served
            /// at `/openapi.json`.
            public enum OpenAPIDocument {
                public static let json = String(decoding: PackageResources.openapi_json, as: UTF8.self)
            }

            """
        return [
            GeneratedFile(path: Self.documentPath, contents: json + "\n"),
            GeneratedFile(path: "\(SwiftRouteRenderer.outputDirectory)/OpenAPIDocument.swift", contents: swift),
        ]
    }

    func document() -> String {
        var schemas: [String: Any] = [
            "Error": [
                "type": "object", "required": ["error"],
                "properties": ["error": [
                    "type": "object", "required": ["code", "message"],
                    "properties": [
                        "code": ["type": "string"], "message": ["type": "string"],
                        "fields": ["type": "array", "items": [
                            "type": "object", "required": ["field", "message"],
                            "properties": ["field": ["type": "string"], "message": ["type": "string"]],
                        ]],
                    ],
                ]],
            ],
            "LoginRequest": [
                "type": "object", "required": ["login", "password"], "additionalProperties": false,
                "properties": [
                    "login": ["type": "string", "minLength": 1, "maxLength": 64, "pattern": ControlCharacters.jsonPattern(lineBreaks: false)],
                    "password": ["type": "string", "format": "password", "writeOnly": true, "maxLength": 1024,
                                 "pattern": ControlCharacters.jsonPattern(lineBreaks: false)],
                ],
            ],
            "LoginResponse": [
                "type": "object", "required": ["access_token", "token_type", "expires_in", "role"],
                "properties": [
                    "access_token": ["type": "string"], "token_type": ["type": "string", "const": "Bearer"],
                    "expires_in": ["type": "integer"], "role": ["type": "string", "enum": schema.roles.map(\.value)],
                ],
            ],
        ]
        var paths: [String: Any] = [
            "/api/auth/login": ["post": [
                "operationId": "login", "summary": "Log in and get an access token (RS256 JWT).", "tags": ["auth"],
                "security": [] as [Any],
                "requestBody": ["required": true, "content": ["application/json": ["schema": ref("LoginRequest")]]],
                "responses": [
                    "200": json("LoginResponse", "The access token."), "400": error("The body is not a JSON object."),
                    "401": error("Wrong login or password."), "422": error("Missing or invalid fields."),
                    "429": error("Too many failed logins; see Retry-After."),
                ],
            ]],
            "/api/auth/logout": ["post": [
                "operationId": "logout", "summary": "End this token's session: the token and its live connections stop working.",
                "tags": ["auth"],
                "responses": [
                    "204": ["description": "The session has ended (also when it had already ended)."],
                    "401": error("No valid token, or its session has already ended."),
                    "503": error("The session cannot be checked right now (database unreachable); retry."),
                ],
            ]],
            "/healthz": ["get": [
                "operationId": "health", "summary": "The process is up.", "tags": ["health"], "security": [] as [Any],
                "responses": ["200": ["description": "Up."]],
            ]],
            "/readyz": ["get": [
                "operationId": "ready", "summary": "PostgreSQL, Redis and RabbitMQ are reachable.", "tags": ["health"],
                "security": [] as [Any],
                "responses": ["200": ["description": "Ready."], "503": ["description": "A dependency is unreachable."]],
            ]],
        ]
        for entity in schema.entities where entity.api != nil && entity.primaryKey != nil {
            add(entity, schemas: &schemas, paths: &paths)
        }
        addReports(schemas: &schemas, paths: &paths)
        let root: [String: Any] = [
            // JSON has no comments: the header is an extension field, the one kind OpenAPI allows at the root.
            "x-generated": "Generated by stamgen from schema/entities.yaml. Do not edit.",
            "openapi": "3.1.0",
            "info": ["title": "stam operator API", "version": "1",
                     "description": "Generated by stamgen from schema/entities.yaml. Every route but login and health needs a bearer token."],
            "servers": [["url": "/"]],
            "security": [["bearer": [] as [Any]]],
            "paths": paths,
            "components": [
                "schemas": schemas,
                "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer", "bearerFormat": "JWT"]],
            ],
        ]
        let data = try! JSONSerialization.data(withJSONObject: root, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    private func add(_ entity: EntityDeclaration, schemas: inout [String: Any], paths: inout [String: Any]) {
        let api = entity.api!
        let key = entity.primaryKey!
        let name = entity.name
        let plural = Naming.upperCamelCase(entity.table.value)
        let writable = SwiftRouteRenderer.writableFields(of: entity)
        let models = SwiftModelRenderer(schema: schema)
        let roles = { (operation: APIDeclaration.Operation) in
            "Roles: " + (api.roles[operation] ?? []).map(\.value).joined(separator: ", ") + "."
        }

        var properties: [String: Any] = [:]
        for field in entity.fields {
            var property = fieldSchema(field, optional: field.optional)
            if field.kind == .scalar(.secret) {
                property = ["type": "null", "description": "A secret: write-only, always null here."]
            }
            if field.readonly || field.primary || SwiftRouteRenderer.serverManaged.contains(field.name) { property["readOnly"] = true }
            if let doc = field.doc { property["description"] = doc }
            properties[field.name] = property
        }
        schemas[name] = ["type": "object", "required": entity.fields.map(\.name), "properties": properties]
        var inputProperties: [String: Any] = [:]
        for field in writable {
            var property = fieldSchema(field, optional: field.optional, inputRules: true)
            if field.kind == .scalar(.secret) { property["writeOnly"] = true }
            if let doc = field.doc { property["description"] = doc }
            inputProperties[field.name] = property
        }
        var create: [String: Any] = [
            "type": "object", "additionalProperties": false, "properties": inputProperties,
            "required": writable.filter { !$0.optional && models.swiftDefault(of: $0) == nil }.map(\.name),
        ]
        var update: [String: Any] = ["type": "object", "additionalProperties": false, "properties": inputProperties]
        let createRules = selectedFormatRules(writable, of: entity, update: false), updateRules = selectedFormatRules(writable, of: entity, update: true)
        if !createRules.isEmpty { create["allOf"] = createRules }
        if !updateRules.isEmpty { update["allOf"] = updateRules }
        schemas["\(name)Create"] = create
        schemas["\(name)Update"] = update
        schemas["\(name)Page"] = [
            "type": "object", "required": ["items", "next_cursor"],
            "properties": ["items": ["type": "array", "items": ref(name)], "next_cursor": ["type": ["string", "null"]]],
        ]

        let path = SwiftRouteRenderer.path(of: entity)
        let idParameter: [String: Any] = ["name": "id", "in": "path", "required": true, "schema": fieldSchema(key, optional: false)]
        var collection: [String: Any] = [:]
        var item: [String: Any] = [:]
        if api.roles[.list] != nil {
            let sorts = api.sort.isEmpty ? [key.name] : api.sort.map(\.value)
            var parameters: [[String: Any]] = [
                ["name": "limit", "in": "query", "schema": ["type": "integer", "minimum": 1, "maximum": 500, "default": 50]],
                ["name": "after", "in": "query",
                 "description": "The next_cursor of the previous page of this list, sort and direction; empty or absent for the first page. A cursor the server did not issue for this sort is a 422.",
                 "schema": ["type": "string", "maxLength": 4096, "pattern": "^[A-Za-z0-9_-]*$"]],
                ["name": "sort", "in": "query", "schema": ["type": "string", "enum": sorts, "default": sorts[0]]],
                ["name": "direction", "in": "query", "schema": ["type": "string", "enum": ["asc", "desc"], "default": "asc"]],
            ]
            for filter in api.filters.compactMap({ entity.field(named: $0.value) }) {
                var filterSchema = fieldSchema(filter, optional: false)
                // An int filter outside the field's range can match nothing: the route refuses it (422), so say so.
                if let range = filter.range?.value, case .scalar(let type) = filter.kind, type == .int || type == .bigint {
                    filterSchema["minimum"] = range.lowerBound
                    filterSchema["maximum"] = range.upperBound
                }
                parameters.append(["name": filter.name, "in": "query", "description": "Equality filter.", "schema": filterSchema])
            }
            for field in api.ranges.compactMap({ entity.field(named: $0.value) }) {
                let bounds = SwiftRepositoryRenderer.rangeBounds(of: field)
                parameters.append(["name": bounds.from, "in": "query", "description": "Only rows whose \(field.name) is at or after this (inclusive).",
                                   "schema": fieldSchema(field, optional: false)])
                parameters.append(["name": bounds.to, "in": "query", "description": "Only rows whose \(field.name) is before this (exclusive).",
                                   "schema": fieldSchema(field, optional: false)])
            }
            collection["get"] = [
                "operationId": "list\(plural)", "summary": "List \(entity.table.value), keyset-paginated. \(roles(.list))", "tags": [name],
                "parameters": parameters,
                "responses": standard(["200": json("\(name)Page", "One page."), "422": error("A bad query parameter.")]),
            ]
        }
        if api.roles[.create] != nil {
            collection["post"] = [
                "operationId": "create\(name)", "summary": "Create. \(roles(.create))", "tags": [name],
                "requestBody": ["required": true, "content": ["application/json": ["schema": ref("\(name)Create")]]],
                "responses": standard([
                    "201": json(name, "Created; ETag carries the version."),
                    "409": error("A unique value is taken, or a row it refers to does not exist (any more)."),
                    "422": error("Invalid fields."),
                ], body: true),
            ]
        }
        if api.roles[.read] != nil {
            item["get"] = [
                "operationId": "get\(name)", "summary": "Read one. \(roles(.read))", "tags": [name], "parameters": [idParameter],
                "responses": standard(["200": json(name, "The row; ETag carries the version."), "404": error("No such row.")]),
            ]
        }
        if api.roles[.update] != nil {
            var parameters = [idParameter]
            if SwiftRouteRenderer.hasVersion(entity) {
                parameters.append(["name": "If-Match", "in": "header", "required": true,
                                   "description": "The ETag of the version read (`\"3\"`), or `*` to change whatever version is current.",
                                   "schema": ["type": "string", "pattern": IfMatch.pattern]])
            }
            item["patch"] = [
                "operationId": "update\(name)", "summary": "Change the given fields. \(roles(.update))", "tags": [name],
                "parameters": parameters,
                "requestBody": ["required": true, "content": ["application/json": ["schema": ref("\(name)Update")]]],
                "responses": standard([
                    "200": json(name, "The row after the change."), "404": error("No such row."),
                    "409": error("Changed since the version read, a unique value is taken, or a row it refers to does not exist."),
                    "422": error("Invalid fields."), "428": error("If-Match is missing."),
                ], body: true),
            ]
        }
        if api.roles[.delete] != nil {
            item["delete"] = [
                "operationId": "delete\(name)", "summary": "Delete. \(roles(.delete))", "tags": [name], "parameters": [idParameter],
                "responses": standard([
                    "204": ["description": "Deleted."], "404": error("No such row."), "409": error("Other rows still refer to it."),
                ]),
            ]
        }
        for action in entity.actions {
            let route = SwiftRouteRenderer.actionPath(action, of: entity).replacingOccurrences(of: ":id", with: "{id}")
            var responses: [String: Any] = ["404": error(action.onCollection ? "A row the body names does not exist." : "No such row.")]
            let returned = action.returnedEntity(of: name)
            let success = action.successStatus
            let description = switch success {
            case 201: "Created."
            case 202: "Accepted, to be done later; Location names it."
            case 204: "Done."
            default: action.onCollection ? "Done; the rows it changed, as one page (next_cursor null)." : "Done; the row after the action (ETag carries its version)."
            }
            responses[String(success)] = returned.map { json(action.onCollection ? "\($0)Page" : $0, description) } ?? ["description": description]
            if let conflict = action.conflict { responses["409"] = error(conflict) }
            var parameters: [Any] = action.onCollection ? [] : [idParameter]
            if success == 202 {
                // Work accepted for later (a panel command) runs once per key: a client that lost the answer and
                // sends the same request again gets the first one's row instead of a second command.
                parameters.append([
                    "name": "Idempotency-Key", "in": "header", "required": false,
                    "description": "Sending the same request again with the same key returns the row the first one made (Idempotent-Replayed: true) instead of doing it twice; the same key with a different request is refused (409).",
                    "schema": ["type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[!-~]+$"],
                ])
                responses["409"] = error("The Idempotency-Key was used for a different request.")
            }
            var operation: [String: Any] = [
                "operationId": Naming.lowerCamelCase(action.name) + name,
                "summary": (action.doc.map { $0 + " " } ?? "") + "Roles: " + action.roles.map(\.value).joined(separator: ", ") + ".",
                "tags": [name], "parameters": parameters,
            ]
            if !action.body.isEmpty {
                let bodyName = SwiftRouteRenderer.bodyType(action, of: entity)
                var properties: [String: Any] = [:]
                for field in action.body { properties[field.name] = bodyFieldSchema(field) }
                schemas[bodyName] = [
                    "type": "object", "additionalProperties": false, "properties": properties,
                    "required": action.body.filter { !$0.optional }.map(\.name),
                ]
                operation["requestBody"] = ["required": true, "content": ["application/json": ["schema": ref(bodyName)]]]
                responses["422"] = error("Missing or invalid fields.")
            }
            operation["responses"] = standard(responses, body: !action.body.isEmpty)
            paths[route] = ["post": operation]
        }
        if !collection.isEmpty { paths[path] = collection }
        if !item.isEmpty { paths[path + "/{id}"] = item }
    }

    /// The hand-written reports (`ReportsController`, supervisor and admin): their period rules and answers, so
    /// the contract fuzzer holds them to the same document.
    private func addReports(schemas: inout [String: Any], paths: inout [String: Any]) {
        let number: [String: Any] = ["type": ["number", "null"]]
        let integer: [String: Any] = ["type": "integer"]
        let text: [String: Any] = ["type": "string"]
        let time: [String: Any] = ["type": "string", "format": "date-time"]
        let siteLine: [String: Any] = [
            "type": "object",
            "required": ["site_id", "site_code", "site_name", "alarms", "fire", "burglary", "acknowledge_seconds_p50",
                         "acknowledge_seconds_p90", "close_seconds_p50", "close_seconds_p90"],
            "properties": [
                "site_id": text, "site_code": text, "site_name": text, "alarms": integer, "fire": integer, "burglary": integer,
                "acknowledge_seconds_p50": number, "acknowledge_seconds_p90": number, "close_seconds_p50": number, "close_seconds_p90": number,
            ],
        ]
        schemas["AlarmReport"] = ["type": "object", "required": ["from", "to", "sites"],
                                  "properties": ["from": time, "to": time, "sites": ["type": "array", "items": siteLine]]]
        let dayLine: [String: Any] = ["type": "object", "required": ["panel_id", "day", "events"],
                                      "properties": ["panel_id": text, "day": text, "events": integer]]
        schemas["PanelEventReport"] = ["type": "object", "required": ["from", "to", "days"],
                                       "properties": ["from": time, "to": time, "days": ["type": "array", "items": dayLine]]]
        let period: [[String: Any]] = [
            ["name": "from", "in": "query", "description": "Start (inclusive); default: 7 days before `to`.", "schema": time],
            ["name": "to", "in": "query", "description": "End (exclusive); default: now. At most 366 days after `from`.", "schema": time],
        ]
        let source: [String: Any] = ["X-Report-Source": ["description": "Where the report ran: `replica` or `primary`.",
                                                         "schema": ["type": "string", "enum": ["replica", "primary"]]]]
        func report(_ id: String, _ summary: String, _ parameters: [[String: Any]], _ body: String) -> [String: Any] {
            var ok = json(body, "The report.")
            ok["headers"] = source
            return ["get": [
                "operationId": id, "summary": summary + " Roles: supervisor, admin.", "tags": ["reports"], "parameters": parameters,
                "responses": standard([
                    "200": ok, "422": error("A bad period (from not before to, or longer than 366 days) or parameter."),
                    "503": error("The report ran longer than the limit and was stopped (ask for a shorter period), or the session cannot be checked."),
                ]),
            ]]
        }
        paths["/api/reports/alarms"] = report("alarmReport", "Per site: alarms raised in [from, to), by kind, with acknowledge and close times.",
                                              period, "AlarmReport")
        // The handling KPIs (ReportsController+handling, HandlingReport.swift), as JSON or CSV.
        let percentiles: [String: Any] = ["type": "object", "required": ["p50", "p90"], "properties": ["p50": number, "p90": number]]
        let handlingLine: [String: Any] = [
            "type": "object", "required": ["period", "group", "alarms", "seconds", "acknowledged_within"],
            "properties": [
                "period": text, "group": text, "alarms": integer,
                "seconds": ["type": "object", "additionalProperties": percentiles,
                            "description": "Per step (receive_to_store, store_to_present, store_to_acknowledge, acknowledge_to_take, take_to_close, store_to_close): median and 90th percentile seconds."],
                "acknowledged_within": ["type": "object", "additionalProperties": ["type": "number"],
                                        "description": "Share (0-1) acknowledged within 30s, 60s and 180s."],
            ],
        ]
        schemas["HandlingReport"] = ["type": "object", "required": ["from", "to", "period", "by", "time_zone", "lines"],
                                     "properties": ["from": time, "to": time, "period": text, "by": text, "time_zone": text,
                                                    "lines": ["type": "array", "items": handlingLine]]]
        var handling = report("handlingReport", "Handling KPIs of the alarms raised in [from, to) (not on test), per period and per class or operator.",
                              period + [
                                ["name": "period", "in": "query", "description": "Bucket: day, week or month in the time zone.",
                                 "schema": ["type": "string", "enum": ["day", "week", "month"], "default": "day"]],
                                ["name": "by", "in": "query", "description": "Group by class (priority), by operator (the assignee), or not at all.",
                                 "schema": ["type": "string", "enum": ["priority", "operator", "all"], "default": "priority"]],
                                ["name": "time_zone", "in": "query", "description": "IANA time zone of the buckets.",
                                 "schema": ["type": "string", "maxLength": 64, "enum": ["Europe/Warsaw", "UTC"], "default": "Europe/Warsaw"]],
                                ["name": "format", "in": "query", "description": "json, or csv (a spreadsheet's download).",
                                 "schema": ["type": "string", "enum": ["json", "csv"], "default": "json"]],
                              ], "HandlingReport")
        if var get = handling["get"] as? [String: Any], var responses = get["responses"] as? [String: Any], var ok = responses["200"] as? [String: Any],
           var content = ok["content"] as? [String: Any] {
            content["text/csv"] = ["schema": ["type": "string"]]
            ok["content"] = content
            responses["200"] = ok
            get["responses"] = responses
            handling["get"] = get
        }
        paths["/api/reports/handling"] = handling
        paths["/api/reports/panel-events"] = report(
            "panelEventReport", "Events per panel per day in [from, to).",
            period + [["name": "panel_id", "in": "query", "description": "Only this panel.", "schema": ["type": "string", "format": "uuid"]]],
            "PanelEventReport")
    }

    /// The answers every authenticated route can give besides its own: no valid token or session (401), a role
    /// that may not (403), a session that cannot be checked right now (503: the database is unreachable; retry,
    /// not log in again), and an unexpected error (500, with the request id to quote). A route with a body adds
    /// 400 (not a JSON object, or a malformed If-Match) and 413 (past the size limit).
    private func standard(_ responses: [String: Any], body: Bool = false) -> [String: Any] {
        var common: [String: Any] = [
            "401": error("No valid bearer token, or its session has ended."), "403": error("The role may not do this."),
            "500": error("An unexpected error; the body and X-Request-ID carry the request id to quote."),
            "503": error("The session cannot be checked right now (database unreachable); retry."),
        ]
        if body {
            common["400"] = error("The body is not a JSON object, or If-Match is not an ETag this API issued.")
            common["413"] = error("The body is larger than the API accepts.")
        }
        return responses.merging(common) { mine, _ in mine }
    }

    private func ref(_ name: String) -> [String: Any] { ["$ref": "#/components/schemas/\(name)"] }

    private func json(_ schemaName: String, _ description: String) -> [String: Any] {
        ["description": description, "content": ["application/json": ["schema": ref(schemaName)]]]
    }

    private func error(_ description: String) -> [String: Any] { json("Error", description) }

    /// A field of an action's body, with its rules: a list is a non-empty array of values under them; a secret is
    /// write-only text without control characters.
    private func bodyFieldSchema(_ field: FieldDeclaration) -> [String: Any] {
        var element: [String: Any]
        if field.kind == .scalar(.secret) {
            element = ["type": "string", "format": "password", "writeOnly": true, "pattern": ControlCharacters.jsonPattern(lineBreaks: false)]
            if let max = field.maxLength?.value { element["maxLength"] = max }
            if let min = field.minLength?.value, min > 0 { element["minLength"] = min }
        } else {
            element = fieldSchema(field, optional: false, inputRules: true)
        }
        var result = element
        if field.list?.value == true {
            result = ["type": "array", "minItems": 1, "items": element,
                      "description": "Distinct values; a repeated one counts once."]
        }
        if let doc = field.doc { result["description"] = doc }
        if field.optional {
            if let type = result["type"] as? String { result["type"] = [type, "null"] }
            if var values = result["enum"] as? [Any] { values.append(NSNull()); result["enum"] = values }
        }
        return result
    }

    /// `format: { by: ... }` as JSON Schema: for each value of the selector, `if` the body picks it, `then` the field
    /// matches its format. A create body without the selector picks its default. An update body is constrained
    /// only when it sends both: with one of them, the other is the stored row's, which the document cannot know.
    func selectedFormatRules(_ writable: [FieldDeclaration], of entity: EntityDeclaration, update: Bool) -> [[String: Any]] {
        var rules: [[String: Any]] = []
        for field in writable {
            guard let selection = field.formatBy?.value, let selector = writable.first(where: { $0.name == selection.selector.value }) else { continue }
            let fallback: String? = if case .literal(let value)? = selector.defaultValue?.value { value } else { nil }
            for choice in selection.formats {
                let value = choice.value.value
                let picked: [String: Any] = ["required": update ? [selector.name, field.name] : [selector.name],
                                             "properties": [selector.name: ["const": value]]]
                let condition: [String: Any] = !update && value == fallback
                    ? ["anyOf": [["not": ["required": [selector.name]]], picked]] : picked
                rules.append(["if": condition, "then": ["properties": [field.name: ["pattern": "^(?:\(choice.format.pattern))$"]]]])
            }
        }
        return rules
    }

    /// - Parameter inputRules: add the field's input rules (lengths, pattern, range): only in request bodies, where
    ///   the server applies them; a stored value written before a rule existed may break it.
    func fieldSchema(_ field: FieldDeclaration, optional: Bool, inputRules: Bool = false) -> [String: Any] {
        var result: [String: Any]
        switch field.kind {
        case .enumeration(let name):
            let values: [Any] = schema.enumeration(named: name.value)?.values.map(\.value) ?? []
            return optional ? ["type": ["string", "null"], "enum": values + [NSNull()]] : ["type": "string", "enum": values]
        case .reference(let target):
            if let key = schema.entity(named: target.value)?.primaryKey { return fieldSchema(key, optional: optional) }
            result = ["type": "string", "format": "uuid"]
        case .scalar(let type):
            switch type {
            case .uuid: result = ["type": "string", "format": "uuid"]
            case .string, .text, .secret:
                result = ["type": "string"]
                if let max = field.maxLength?.value { result["maxLength"] = max }
                if inputRules, let min = field.minLength?.value, min > 0 { result["minLength"] = min }
                if inputRules, type != .secret {
                    // The rules the server applies (JSONObjectReader) and the database checks: one pattern, so a
                    // client learns them from the document. A format's pattern already excludes control characters.
                    result["pattern"] = field.format.map { "^(?:\($0.value.pattern))$" } ?? ControlCharacters.jsonPattern(lineBreaks: type == .text)
                    if let format = field.format?.value { result["x-stam-format"] = format.rawValue }
                }
                if inputRules, let selection = field.formatBy?.value {
                    // A secret's format chosen by another field: no pattern can say it, so the extension names both.
                    var formats: [String: Any] = [:]
                    for choice in selection.formats { formats[choice.value.value] = choice.format.rawValue }
                    result["x-stam-format-by"] = ["field": selection.selector.value, "formats": formats]
                }
            case .int, .bigint:
                result = ["type": "integer", "format": type == .int ? "int32" : "int64"]
                if inputRules, let range = field.range?.value {
                    result["minimum"] = range.lowerBound
                    result["maximum"] = range.upperBound
                }
            case .double: result = ["type": "number", "format": "double"]
            case .decimal: return ["type": optional ? ["number", "string", "null"] : ["number", "string"]]
            case .bool: result = ["type": "boolean"]
            case .timestamp, .date: result = ["type": "string", "format": "date-time"]
            case .json: return [:]
            case .bytes: result = ["type": "string", "contentEncoding": "base64"]
            }
        }
        if optional, let type = result["type"] as? String { result["type"] = [type, "null"] }
        return result
    }
}
