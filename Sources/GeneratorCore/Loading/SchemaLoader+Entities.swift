import StamCore

/// `schema/entities.yaml`: roles, enums, the alarm stack and entities.
extension SchemaLoader {
    static let fieldKeys = ["type", "enum", "ref", "optional", "primary", "unique", "max", "min", "format", "range", "default", "on_delete",
                            "readonly", "personal", "doc"]
    static let entityKeys = ["doc", "table", "fields", "indexes", "unique", "api", "actions", "append_only", "at_least_one"]

    func loadEntitiesFile(_ root: SchemaNode) {
        guard let top = mapping(root, "the entities file", allowed: ["roles", "enums", "alarm_stack", "entities"]) else { return }
        if let roles = value(top, "roles") {
            schema.roles = stringList(roles, "roles") ?? []
        }
        if let enums = value(top, "enums"), let entries = mapping(enums, "enums") {
            schema.enums = entries.compactMap(loadEnum)
        }
        if let node = value(top, "alarm_stack") {
            schema.alarmStack = loadAlarmStack(node)
        }
        if let entities = value(top, "entities"), let entries = mapping(entities, "entities") {
            schema.entities = entries.compactMap(loadEntity)
        }
    }

    private func loadAlarmStack(_ node: SchemaNode) -> AlarmStackDeclaration? {
        guard let body = mapping(node, "the alarm stack", allowed: ["doc", "classes"]) else { return nil }
        var stack = AlarmStackDeclaration(location: node.location, doc: doc(body))
        guard let classesNode = value(body, "classes") else {
            diagnostics.error("the alarm stack has no 'classes' (one per AlarmPriority value, most urgent first)", at: node.location)
            return stack
        }
        for entry in mapping(classesNode, "the classes of the alarm stack") ?? [] {
            let what = "alarm class '\(entry.key)'"
            guard let fields = mapping(entry.value, what, allowed: ["doc", "acknowledge_within", "kinds", "bulk_close"]) else { continue }
            guard let targetNode = value(fields, "acknowledge_within") else {
                diagnostics.error("\(what) has no 'acknowledge_within' (how long its alarms may wait unacknowledged, e.g. 60s)",
                                  at: entry.keyLocation)
                continue
            }
            guard let seconds = duration(targetNode, "'acknowledge_within' of \(what)") else { continue }
            stack.classes.append(AlarmClassDeclaration(
                priority: Located(entry.key, at: entry.keyLocation), doc: doc(fields),
                acknowledgeWithinSeconds: Located(seconds, at: targetNode.location),
                kinds: value(fields, "kinds").flatMap { stringList($0, "the kinds of \(what)") } ?? [],
                bulkClose: value(fields, "bulk_close").flatMap { bool($0, "'bulk_close' of \(what)") } ?? true))
        }
        return stack
    }

    private func loadEnum(_ entry: SchemaNode.Entry) -> EnumDeclaration? {
        let what = "enum '\(entry.key)'"
        if entry.value.items != nil {
            return EnumDeclaration(name: entry.key, location: entry.keyLocation,
                                   values: stringList(entry.value, "the values of \(what)") ?? [])
        }
        guard let body = mapping(entry.value, what, allowed: ["doc", "values", "renamed"]) else { return nil }
        guard let valuesNode = value(body, "values") else {
            diagnostics.error("\(what) has no 'values'", at: entry.keyLocation)
            return nil
        }
        var renamed: [EnumDeclaration.Rename] = []
        if let node = value(body, "renamed") {
            for rename in mapping(node, "'renamed' of \(what) (old name: new name)") ?? [] {
                guard let new = locatedString(rename.value, "the new name of '\(rename.key)' in \(what)") else { continue }
                renamed.append(.init(old: Located(rename.key, at: rename.keyLocation), new: new))
            }
        }
        return EnumDeclaration(name: entry.key, location: entry.keyLocation, doc: doc(body),
                               values: stringList(valuesNode, "the values of \(what)") ?? [], renamed: renamed)
    }

    private func loadEntity(_ entry: SchemaNode.Entry) -> EntityDeclaration? {
        let what = "entity '\(entry.key)'"
        guard let body = mapping(entry.value, what, allowed: Self.entityKeys) else { return nil }
        let table = value(body, "table").flatMap { locatedString($0, "the table of \(what)") }
            ?? Located(Naming.tableName(forEntity: entry.key), at: entry.keyLocation)
        var entity = EntityDeclaration(name: entry.key, location: entry.keyLocation, table: table)
        entity.doc = doc(body)
        if let node = value(body, "append_only") { entity.appendOnly = bool(node, "'append_only' of \(what)") ?? false }
        if let node = value(body, "at_least_one") { entity.atLeastOne = loadAtLeastOne(node, owner: what) }
        if let fields = value(body, "fields"), let entries = mapping(fields, "the fields of \(what)") {
            entity.fields = entries.compactMap { loadField($0, owner: what, allowsEntityKeys: true) }
            entity.incomplete = entity.fields.count != entries.count
        } else if value(body, "fields") == nil {
            diagnostics.error("\(what) has no 'fields'", at: entry.keyLocation)
        }
        if let indexes = value(body, "indexes") {
            entity.indexes += loadIndexes(indexes, unique: false, owner: what)
        }
        if let uniques = value(body, "unique") {
            entity.indexes += loadIndexes(uniques, unique: true, owner: what)
        }
        if let api = value(body, "api") {
            entity.api = loadAPI(api, owner: what)
        }
        if let actions = value(body, "actions"), let entries = mapping(actions, "the actions of \(what)") {
            entity.actions = entries.compactMap { action in
                loadAction(action, owner: what)
            }
        }
        return entity
    }

    private func loadAtLeastOne(_ node: SchemaNode, owner: String) -> AtLeastOneDeclaration? {
        let what = "'at_least_one' of \(owner)"
        guard let body = mapping(node, what, allowed: ["where", "code", "message"]) else { return nil }
        guard let whereNode = value(body, "where"), let entries = mapping(whereNode, "'where' of \(what)"), !entries.isEmpty,
              let codeNode = value(body, "code"), let code = locatedString(codeNode, "'code' of \(what)"),
              let messageNode = value(body, "message"), let message = string(messageNode, "'message' of \(what)") else {
            diagnostics.error("\(what) needs 'where' (field: value, ...), 'code' and 'message', e.g. "
                              + "at_least_one: { where: { role: admin, active: true }, code: last_admin, message: \"...\" }", at: node.location)
            return nil
        }
        let conditions = entries.compactMap { entry -> (field: Located<String>, value: Located<String>)? in
            guard let value = entry.value.scalar else {
                diagnostics.error("a condition of \(what) compares a field with one value, e.g. active: true", at: entry.value.location)
                return nil
            }
            return (Located(entry.key, at: entry.keyLocation), Located(value, at: entry.value.location))
        }
        return AtLeastOneDeclaration(conditions: conditions, code: code, message: message, location: node.location)
    }

    static let actionKeys = ["roles", "doc", "body", "status", "returns", "conflict", "collection"]
    /// The keys of a field of an action's body: a value's kind and its rules, no column options.
    static let actionFieldKeys = ["type", "enum", "ref", "optional", "max", "min", "format", "range", "list", "doc"]

    private func loadAction(_ entry: SchemaNode.Entry, owner: String) -> ActionDeclaration? {
        let what = "action '\(entry.key)' of \(owner)"
        guard let body = mapping(entry.value, what, allowed: Self.actionKeys) else { return nil }
        let roles = value(body, "roles").flatMap { stringList($0, "the roles of \(what)") } ?? []
        var action = ActionDeclaration(name: entry.key, location: entry.keyLocation, doc: doc(body), roles: roles)
        if let fields = value(body, "body"), let entries = mapping(fields, "the body of \(what)") {
            action.body = entries.compactMap { loadField($0, owner: "the body of \(what)", allowedKeys: Self.actionFieldKeys) }
        }
        if let node = value(body, "status"), let status = int(node, "'status' of \(what)") {
            action.status = Located(status, at: node.location)
        }
        if let node = value(body, "returns") { action.returns = locatedString(node, "'returns' of \(what)") }
        if let node = value(body, "conflict") { action.conflict = string(node, "'conflict' of \(what)") }
        if let node = value(body, "collection"), let flag = bool(node, "'collection' of \(what)") {
            action.collection = Located(flag, at: node.location)
        }
        return action
    }

    /// A field: `name: uuid` (shorthand for a type) or `name: { type: ..., optional: true, ... }`.
    /// Event payloads use the same form without the keys that only make sense for a table column.
    func loadField(_ entry: SchemaNode.Entry, owner: String, allowsEntityKeys: Bool) -> FieldDeclaration? {
        loadField(entry, owner: owner, allowedKeys: allowsEntityKeys ? Self.fieldKeys : ["type", "enum", "ref", "optional", "max", "doc"])
    }

    func loadField(_ entry: SchemaNode.Entry, owner: String, allowedKeys allowed: [String]) -> FieldDeclaration? {
        let what = "field '\(entry.key)' of \(owner)"
        if let shorthand = entry.value.scalar, !entry.value.isNull {
            guard let kind = scalarKind(shorthand, at: entry.value.location) else { return nil }
            return FieldDeclaration(name: entry.key, location: entry.keyLocation, kind: kind)
        }
        guard let body = mapping(entry.value, what, allowed: allowed) else { return nil }
        let kinds = body.filter { ["type", "enum", "ref"].contains($0.key) }
        guard kinds.count == 1, let kindEntry = kinds.first else {
            let message = kinds.isEmpty
                ? "\(what) needs one of 'type', 'enum' or 'ref'"
                : "\(what) has more than one of 'type', 'enum' and 'ref'; give exactly one"
            diagnostics.error(message, at: kinds.dropFirst().first?.keyLocation ?? entry.keyLocation)
            return nil
        }
        let kind: FieldKind
        switch kindEntry.key {
        case "type":
            guard let text = string(kindEntry.value, "the type of \(what)"),
                  let scalar = scalarKind(text, at: kindEntry.value.location) else { return nil }
            kind = scalar
        case "enum":
            guard let name = locatedString(kindEntry.value, "the enum of \(what)") else { return nil }
            kind = .enumeration(name)
        default:
            guard let name = locatedString(kindEntry.value, "the entity \(what) refers to") else { return nil }
            kind = .reference(name)
        }
        var field = FieldDeclaration(name: entry.key, location: entry.keyLocation, kind: kind)
        field.doc = doc(body)
        if let node = value(body, "optional") { field.optional = bool(node, "'optional' of \(what)") ?? false }
        if let node = value(body, "primary") { field.primary = bool(node, "'primary' of \(what)") ?? false }
        if let node = value(body, "unique") { field.unique = bool(node, "'unique' of \(what)") ?? false }
        if let node = value(body, "readonly") { field.readonly = bool(node, "'readonly' of \(what)") ?? false }
        if let node = value(body, "max"), let max = int(node, "'max' of \(what)") {
            field.maxLength = Located(max, at: node.location)
        }
        if let node = value(body, "min"), let min = int(node, "'min' of \(what)") {
            field.minLength = Located(min, at: node.location)
        }
        if let node = value(body, "format") {
            if let entries = node.entries {
                field.formatBy = formatSelection(entries, of: what, at: node.location)
            } else if let format = choice(node, "format", as: TextFormat.self) {
                field.format = Located(format, at: node.location)
            }
        }
        if let node = value(body, "personal") {
            if node.scalar == "false" {
                field.personal = Located(nil, at: node.location)
            } else if node.scalar == "true" {
                diagnostics.error("'personal' of \(what) names the kind of personal data, not true (one of: \(PersonalKind.allCases.map(\.rawValue).joined(separator: ", "))), or is false",
                                  at: node.location)
                field.personal = Located(nil, at: node.location)
            } else {
                field.personal = Located(choice(node, "kind of personal data", as: PersonalKind.self), at: node.location)
            }
        }
        if let node = value(body, "range") {
            let bounds = node.items?.compactMap { int($0, "a bound of the range of \(what)") } ?? []
            if bounds.count == 2, bounds[0] <= bounds[1] {
                field.range = Located(bounds[0]...bounds[1], at: node.location)
            } else {
                diagnostics.error("'range' of \(what) must be [low, high] with low <= high, e.g. range: [1, 65535]", at: node.location)
            }
        }
        if let node = value(body, "default"), let text = node.scalar {
            let value: DefaultValue = switch text {
            case "now": .now
            case "random": .random
            default: .literal(text)
            }
            field.defaultValue = Located(value, at: node.location)
        }
        if let node = value(body, "on_delete"), let action = choice(node, "on_delete action", as: OnDeleteAction.self) {
            field.onDelete = Located(action, at: node.location)
        }
        if let node = value(body, "list"), let list = bool(node, "'list' of \(what)") { field.list = Located(list, at: node.location) }
        return field
    }

    /// `uuid`, `string`, ... ; an unknown name is reported here with the nearest built-in type.
    /// `format: { by: <enum field>, <value>: <format>, ... }` (the validator checks the field and its values).
    private func formatSelection(_ entries: [SchemaNode.Entry], of what: String, at location: SourceLocation) -> Located<FormatSelection>? {
        guard let by = entries.first(where: { $0.key == "by" }) else {
            diagnostics.error("a 'format' mapping of \(what) needs 'by': the enum field that picks the format, e.g. format: { by: key_form, hex: aes_key_hex }",
                              at: location)
            return nil
        }
        guard let selector = locatedString(by.value, "'by' of the format of \(what)") else { return nil }
        var choices: [FormatSelection.Choice] = []
        for entry in entries where entry.key != "by" {
            guard let format = choice(entry.value, "the format of \(what) for '\(entry.key)'", as: TextFormat.self) else { continue }
            choices.append(.init(value: Located(entry.key, at: entry.keyLocation), format: format))
        }
        return Located(FormatSelection(selector: selector, formats: choices), at: location)
    }

    private func scalarKind(_ name: String, at location: SourceLocation) -> FieldKind? {
        if let type = ScalarType(rawValue: name) { return .scalar(type) }
        var message = "unknown type '\(name)'\(NameSuggestion.hint(for: name, in: ScalarType.names))"
        if NameSuggestion.nearest(to: name, in: ScalarType.names) == nil {
            message += " (built-in types: \(ScalarType.names.joined(separator: ", ")); use 'enum:' or 'ref:' for schema types)"
        }
        diagnostics.error(message, at: location)
        return nil
    }

    /// `[[a], [b, c]]`, or `[{ columns: [a, b] }]` entries.
    private func loadIndexes(_ node: SchemaNode, unique: Bool, owner: String) -> [IndexDeclaration] {
        let what = unique ? "the unique constraints of \(owner)" : "the indexes of \(owner)"
        guard let items = node.items else {
            diagnostics.error("expected a list of column lists for \(what), found \(node.kindDescription)", at: node.location)
            return []
        }
        return items.compactMap { item in
            if item.items != nil {
                guard let columns = stringList(item, what), !columns.isEmpty else { return nil }
                return IndexDeclaration(columns: columns, unique: unique, location: item.location)
            }
            guard let body = mapping(item, "an index of \(owner)", allowed: ["columns", "unique"]),
                  let columnsNode = value(body, "columns"),
                  let columns = stringList(columnsNode, what), !columns.isEmpty else {
                diagnostics.error("an index needs a non-empty 'columns' list", at: item.location)
                return nil
            }
            let isUnique = value(body, "unique").flatMap { bool($0, "'unique' of an index") } ?? unique
            return IndexDeclaration(columns: columns, unique: isUnique, location: item.location)
        }
    }

    private func loadAPI(_ node: SchemaNode, owner: String) -> APIDeclaration? {
        let operations = APIDeclaration.Operation.allCases.map(\.rawValue)
        guard let body = mapping(node, "the api of \(owner)", allowed: operations + ["filters", "ranges", "sort", "list_cache"]) else { return nil }
        var api = APIDeclaration(location: node.location)
        for operation in APIDeclaration.Operation.allCases {
            if let roles = value(body, operation.rawValue) {
                api.roles[operation] = stringList(roles, "the roles allowed to \(operation.rawValue) \(owner)") ?? []
            }
        }
        api.filters = value(body, "filters").flatMap { stringList($0, "the filters of \(owner)") } ?? []
        api.ranges = value(body, "ranges").flatMap { stringList($0, "the ranges of \(owner)") } ?? []
        api.sort = value(body, "sort").flatMap { stringList($0, "the sort fields of \(owner)") } ?? []
        if let cacheNode = value(body, "list_cache") { api.listCache = loadListCache(cacheNode, owner: owner) }
        return api
    }

    private func loadListCache(_ node: SchemaNode, owner: String) -> ListCacheDeclaration? {
        let what = "the list_cache of \(owner)"
        guard let body = mapping(node, what, allowed: ["max_age", "invalidated_by"]) else { return nil }
        guard let ageNode = value(body, "max_age"), let maxAge = duration(ageNode, "'max_age' of \(what)") else {
            if value(body, "max_age") == nil {
                diagnostics.error("\(what) needs 'max_age' (how stale an answer may be at most, e.g. 1s)", at: node.location)
            }
            return nil
        }
        let events = value(body, "invalidated_by").flatMap { stringList($0, "'invalidated_by' of \(what)") } ?? []
        return ListCacheDeclaration(maxAgeSeconds: maxAge, invalidatedBy: events, location: node.location)
    }
}
