import StamCore

/// Entities: fields, keys, defaults, indexes and the API section.
extension SchemaValidator {
    mutating func check(_ entity: EntityDeclaration) {
        let owner = "entity '\(entity.name)'"
        let context = Naming.snakeCase(entity.name)
        if entity.fields.isEmpty { return }
        var seen = Set<String>()
        for field in entity.fields {
            checkSnakeName(field.name, "field name", at: field.location, context: context)
            if !seen.insert(field.name).inserted {
                diagnostics.error("duplicate field '\(field.name)' in \(owner)", at: field.location)
            }
            checkKind(of: field, in: owner)
            checkColumnOptions(field, owner: owner)
            checkPersonal(field, owner: owner)
            if let selection = field.formatBy { check(selection, of: field, in: entity) }
        }
        let primaryKeys = entity.fields.filter(\.primary)
        if primaryKeys.isEmpty && !entity.incomplete {
            diagnostics.error("\(owner) has no primary key; add 'id: { type: uuid, primary: true, default: random }'", at: entity.location)
        }
        for extra in primaryKeys.dropFirst() {
            diagnostics.error("\(owner) has more than one primary key field ('\(primaryKeys[0].name)' and '\(extra.name)')", at: extra.location)
        }
        if let key = primaryKeys.first {
            if key.kind != .scalar(.uuid) && key.kind != .scalar(.bigint) {
                diagnostics.error("primary key '\(key.name)' of \(owner) must be of type uuid or bigint", at: key.location)
            }
            if key.optional {
                diagnostics.error("primary key '\(key.name)' of \(owner) cannot be optional", at: key.location)
            }
        }
        for index in entity.indexes {
            var columns = Set<String>()
            for column in index.columns {
                if entity.field(named: column.value) == nil && !entity.incomplete {
                    diagnostics.error(
                        "unknown field '\(column.value)' in an index of \(owner)\(NameSuggestion.hint(for: column.value, in: entity.fields.map(\.name)))",
                        at: column.location)
                }
                if !columns.insert(column.value).inserted {
                    diagnostics.error("field '\(column.value)' appears twice in one index of \(owner)", at: column.location)
                }
            }
        }
        if let api = entity.api { check(api, of: entity) }
        if let rule = entity.atLeastOne { check(rule, of: entity) }
        for action in entity.actions {
            checkSnakeName(action.name, "action name", at: action.location, context: context)
            checkRoles(action.roles, for: "action '\(action.name)' of \(owner)")
            check(action, of: entity)
        }
    }

    /// `format: { by: ... }`: a secret field, an enum field of the same entity, and a format for each of its values.
    private mutating func check(_ selection: Located<FormatSelection>, of field: FieldDeclaration, in entity: EntityDeclaration) {
        let what = "the format of field '\(field.name)' of entity '\(entity.name)'"
        if field.kind != .scalar(.secret) {
            diagnostics.error("\(what) is chosen by another field, which only a secret field may be (its value is encrypted, so the API checks it); "
                              + "give a string field one format, e.g. format: hex_digits", at: selection.location)
            return
        }
        let selector = selection.value.selector
        guard let chooser = entity.field(named: selector.value) else {
            diagnostics.error("unknown field '\(selector.value)' in 'by' of \(what)\(NameSuggestion.hint(for: selector.value, in: entity.fields.map(\.name)))",
                              at: selector.location)
            return
        }
        guard case .enumeration(let name) = chooser.kind else {
            diagnostics.error("'by' of \(what) must name an enum field; '\(chooser.name)' is not one", at: selector.location)
            return
        }
        let values = schema.enumeration(named: name.value)?.values.map(\.value) ?? []
        for choice in selection.value.formats where !values.contains(choice.value.value) {
            diagnostics.error("'\(choice.value.value)' is not a value of \(name.value)\(NameSuggestion.hint(for: choice.value.value, in: values))",
                              at: choice.value.location)
        }
        for value in values where !selection.value.formats.contains(where: { $0.value.value == value }) {
            diagnostics.error("field '\(field.name)' of entity '\(entity.name)' has no format for '\(value)' of \(name.value); add '\(value): <format>' (one of "
                              + "\(TextFormat.allCases.map(\.rawValue).joined(separator: ", ")))", at: selection.location)
        }
    }

    /// `at_least_one:` compares enum and bool fields of the entity with values they can hold.
    private mutating func check(_ rule: AtLeastOneDeclaration, of entity: EntityDeclaration) {
        checkSnakeName(rule.code.value, "'code' of at_least_one", at: rule.code.location, context: Naming.snakeCase(entity.name))
        for condition in rule.conditions {
            guard let field = entity.field(named: condition.field.value) else {
                diagnostics.error("unknown field '\(condition.field.value)' in 'at_least_one' of entity '\(entity.name)'"
                                  + NameSuggestion.hint(for: condition.field.value, in: entity.fields.map(\.name)), at: condition.field.location)
                continue
            }
            switch field.kind {
            case .scalar(.bool):
                if !["true", "false"].contains(condition.value.value) {
                    diagnostics.error("'\(field.name)' is a bool; compare it with true or false", at: condition.value.location)
                }
            case .enumeration(let name):
                let values = schema.enumeration(named: name.value)?.values.map(\.value) ?? []
                if !values.contains(condition.value.value) {
                    diagnostics.error("'\(condition.value.value)' is not a value of \(name.value)\(NameSuggestion.hint(for: condition.value.value, in: values))",
                                      at: condition.value.location)
                }
            default:
                diagnostics.error("'at_least_one' compares enum and bool fields; '\(field.name)' of entity '\(entity.name)' is neither",
                                  at: condition.field.location)
            }
        }
    }

    /// A `ref` to an entity whose primary key is a uuid (what `list: true` reads as a list of ids).
    private func referencesUUIDKey(_ field: FieldDeclaration) -> Bool {
        guard case .reference(let target) = field.kind else { return false }
        return schema.entity(named: target.value)?.primaryKey?.kind == .scalar(.uuid)
    }

    /// An action's body fields hold values the route can read and the document can describe; its answer is one
    /// of the statuses the route renders, carrying an entity unless it is 204.
    private mutating func check(_ action: ActionDeclaration, of entity: EntityDeclaration) {
        let owner = "the body of action '\(action.name)' of entity '\(entity.name)'"
        var seen = Set<String>()
        for field in action.body {
            checkSnakeName(field.name, "field name", at: field.location, context: action.name)
            if !seen.insert(field.name).inserted { diagnostics.error("duplicate field '\(field.name)' in \(owner)", at: field.location) }
            checkKind(of: field, in: owner)
            let what = "field '\(field.name)' of \(owner)"
            let readable: Set<ScalarType> = [.string, .text, .secret, .int, .bigint, .bool, .uuid, .timestamp]
            if case .scalar(let type) = field.kind, !readable.contains(type) {
                diagnostics.error("\(what) is of type \(type.rawValue); an action's body takes \(readable.map(\.rawValue).sorted().joined(separator: ", ")), enums and refs", at: field.location)
            }
            let isText = [.scalar(.string), .scalar(.text), .scalar(.secret)].contains(field.kind)
            if let max = field.maxLength, !isText || max.value <= 0 {
                diagnostics.error("'max' of \(what) needs a text field and a positive length", at: max.location)
            }
            if let min = field.minLength, !isText || min.value < 0 || min.value > (field.maxLength?.value ?? Int.max) {
                diagnostics.error("'min' of \(what) needs a text field and a length between 0 and its 'max'", at: min.location)
            }
            if let format = field.format, field.kind != .scalar(.string) {
                diagnostics.error("'format' applies only to fields of type string; \(what) is not one", at: format.location)
            }
            if let selection = field.formatBy {
                diagnostics.error("a format chosen by another field applies only to an entity's secret fields; \(what) is in an action's body",
                                  at: selection.location)
            }
            if let range = field.range, field.kind != .scalar(.int) && field.kind != .scalar(.bigint) {
                diagnostics.error("'range' applies only to fields of type int or bigint; \(what) is not one", at: range.location)
            }
            if let list = field.list, list.value, field.kind != .scalar(.int), !referencesUUIDKey(field) {
                diagnostics.error("'list' is supported for int fields (numbers of partitions, zones, outputs) and refs to uuid keys (the rows a collection action names); \(what) is not one",
                                  at: list.location)
            }
        }
        if let collection = action.collection, collection.value {
            if ![200, 204].contains(action.successStatus) {
                diagnostics.error("collection action '\(action.name)' answers 200 (the rows it changed) or 204; found \(action.successStatus)",
                                  at: action.status?.location ?? collection.location)
            } else if let returned = action.returnedEntity(of: entity.name), schema.entity(named: returned)?.api?.roles[.list] == nil {
                diagnostics.error("collection action '\(action.name)' answers with a page of '\(returned)', which has no list route; add 'list' to its api or answer 204",
                                  at: action.returns?.location ?? collection.location)
            }
        }
        if let status = action.status, !ActionDeclaration.statuses.contains(status.value) {
            diagnostics.error("'status' of action '\(action.name)' must be one of \(ActionDeclaration.statuses.map(String.init).joined(separator: ", ")), found \(status.value)",
                              at: status.location)
        }
        if let returns = action.returns {
            if action.successStatus == 204 {
                diagnostics.error("action '\(action.name)' answers 204 (no content) and cannot return '\(returns.value)'; drop 'returns' or choose another status",
                                  at: returns.location)
            } else if schema.entity(named: returns.value) == nil {
                diagnostics.error("action '\(action.name)' returns '\(returns.value)', which is not an entity\(NameSuggestion.hint(for: returns.value, in: schema.entities.map(\.name)))",
                                  at: returns.location)
            }
        }
    }

    private mutating func checkColumnOptions(_ field: FieldDeclaration, owner: String) {
        let what = "field '\(field.name)' of \(owner)"
        if let max = field.maxLength {
            if field.kind != .scalar(.string) {
                diagnostics.error("'max' applies only to fields of type string; \(what) is not one", at: max.location)
            } else if max.value <= 0 || max.value > 10_485_760 {
                diagnostics.error("'max' of \(what) must be between 1 and 10485760, found \(max.value)", at: max.location)
            }
        }
        let isText = field.kind == .scalar(.string) || field.kind == .scalar(.text)
        if let min = field.minLength {
            if !isText {
                diagnostics.error("'min' applies only to fields of type string or text; \(what) is not one", at: min.location)
            } else if min.value < 0 || min.value > (field.maxLength?.value ?? Int.max) {
                diagnostics.error("'min' of \(what) must be between 0 and its 'max', found \(min.value)", at: min.location)
            }
        }
        if let format = field.format, field.kind != .scalar(.string) {
            diagnostics.error("'format' applies only to fields of type string; \(what) is not one", at: format.location)
        }
        if let range = field.range, field.kind != .scalar(.int) && field.kind != .scalar(.bigint) {
            diagnostics.error("'range' applies only to fields of type int or bigint; \(what) is not one", at: range.location)
        } else if let range = field.range, field.kind == .scalar(.int),
                  range.value.lowerBound < Int(Int32.min) || range.value.upperBound > Int(Int32.max) {
            diagnostics.error("'range' of \(what) must lie within an int (-2147483648...2147483647)", at: range.location)
        }
        if let onDelete = field.onDelete {
            guard case .reference = field.kind else {
                diagnostics.error("'on_delete' applies only to 'ref' fields; \(what) is not one", at: onDelete.location)
                return
            }
            if onDelete.value == .setNull && !field.optional {
                diagnostics.error("\(what) uses on_delete: set_null but is not optional; add 'optional: true' or use restrict/cascade", at: onDelete.location)
            }
        }
        if let defaultValue = field.defaultValue {
            checkDefault(defaultValue, of: field, what: what)
        }
    }

    /// `personal:` every field that can hold text says whether it holds personal data and of which kind, so a new
    /// column cannot reach STAGE's copy of production unnoticed; the kind must fit the field, since `stam snapshot`
    /// writes its replacement under the field's own rules.
    private mutating func checkPersonal(_ field: FieldDeclaration, owner: String) {
        let what = "field '\(field.name)' of \(owner)"
        let kinds = PersonalKind.allCases.map(\.rawValue).joined(separator: ", ")
        let type: ScalarType? = if case .scalar(let type) = field.kind { type } else { nil }
        let holdsText = [.string, .text, .json, .secret, .bytes].contains(type)
        guard let personal = field.personal else {
            if holdsText {
                diagnostics.error("\(what) can hold personal data: say which kind with 'personal: <kind>' (\(kinds)), or 'personal: false'",
                                  at: field.location)
            }
            return
        }
        guard holdsText, let type else {
            diagnostics.error("'personal' applies only to fields of type string, text, json, secret or bytes; \(what) is not one", at: personal.location)
            return
        }
        guard let kind = personal.value else {
            if type == .secret {
                diagnostics.error("\(what) is a secret, encrypted with production's key, which STAGE does not have: mark it 'personal: secret'",
                                  at: personal.location)
            }
            return
        }
        let fits: Bool = switch kind {
        case .secret: type == .secret
        case .json: type == .json
        case .host: type == .string
        case .text: [.string, .text, .bytes].contains(type)
        case .name, .address, .phone, .login, .ip: type == .string || type == .text
        }
        if !fits {
            diagnostics.error("'personal: \(kind.rawValue)' does not fit \(what), of type \(type.rawValue)", at: personal.location)
            return
        }
        if type == .secret && kind != .secret {
            diagnostics.error("\(what) is a secret: mark it 'personal: secret'", at: personal.location)
        }
        let becomesNull = kind == .secret || kind == .host || type == .bytes
        if becomesNull && !field.optional {
            diagnostics.error("'personal: \(kind.rawValue)' replaces \(what) with null, so it must be optional", at: personal.location)
        }
        // The replacement must pass the field's format, which the database checks.
        if let format = field.format?.value {
            let kept: Bool = switch format {
            case .phone, .e164: kind == .phone
            case .login: kind == .login
            case .hostname: kind == .host
            default: false
            }
            if !kept {
                diagnostics.error("'personal: \(kind.rawValue)' would write values that are not \(format.explanation) into \(what); use the kind of its format or 'personal: false'",
                                  at: personal.location)
            }
        }
        if kind == .phone, let max = field.maxLength?.value, max < 12 {
            diagnostics.error("\(what) is too short for a replacement phone number (+48 and nine digits); give it max: 12 or more", at: personal.location)
        }
    }

    /// A default must be a value of the field's type: `now` for times, `random` for uuids, else a literal.
    private mutating func checkDefault(_ defaultValue: Located<DefaultValue>, of field: FieldDeclaration, what: String) {
        let location = defaultValue.location
        switch (defaultValue.value, field.kind) {
        case (.now, .scalar(.timestamp)), (.now, .scalar(.date)), (.random, .scalar(.uuid)):
            return
        case (.now, _):
            diagnostics.error("default 'now' needs a timestamp or date field; \(what) is not one", at: location)
        case (.random, _):
            diagnostics.error("default 'random' needs a uuid field; \(what) is not one", at: location)
        case (.literal(let text), .enumeration(let name)):
            let values = schema.enumeration(named: name.value)?.values.map(\.value) ?? []
            if !values.isEmpty && !values.contains(text) {
                diagnostics.error(
                    "default '\(text)' of \(what) is not a value of enum '\(name.value)'\(NameSuggestion.hint(for: text, in: values))",
                    at: location)
            }
        case (.literal(let text), .scalar(let type)):
            let valid: Bool = switch type {
            case .int: Int32(text) != nil
            case .bigint: Int64(text) != nil
            case .double, .decimal: Double(text) != nil
            case .bool: text == "true" || text == "false"
            case .string: field.maxLength.map { text.count <= $0.value } ?? true
            case .text: true
            case .uuid: UUIDText.isValid(text)
            case .json, .bytes, .secret, .timestamp, .date: false
            }
            if !valid {
                let expectation: String = switch type {
                case .json, .bytes, .secret: "no literal default is allowed for type \(type.rawValue)"
                case .timestamp, .date: "the only default for type \(type.rawValue) is 'now'"
                case .string: "a string of at most \(field.maxLength?.value ?? 0) characters"
                default: "a literal of type \(type.rawValue)"
                }
                diagnostics.error("default '\(text)' of \(what) is not valid: expected \(expectation)", at: location)
            }
        case (.literal, .reference):
            diagnostics.error("a 'ref' field cannot have a default; \(what) has one", at: location)
        }
    }

    private mutating func check(_ api: APIDeclaration, of entity: EntityDeclaration) {
        let owner = "entity '\(entity.name)'"
        if let creators = api.roles[.create], !creators.isEmpty {
            for field in entity.fields where field.readonly && !field.optional && field.defaultValue == nil {
                diagnostics.error(
                    "field '\(field.name)' of \(owner) is readonly and required without a default, so the generated create route "
                        + "cannot fill it; give it a default, make it optional, or drop 'create'",
                    at: field.location)
            }
        }
        for operation in APIDeclaration.Operation.allCases {
            if let roles = api.roles[operation] { checkRoles(roles, for: "'\(operation.rawValue)' of \(owner)") }
        }
        if let cache = api.listCache { check(cache, of: entity, api: api) }
        let fieldNames = entity.fields.map(\.name)
        for (list, kind) in [(api.filters, "filter"), (api.ranges, "range"), (api.sort, "sort field")] {
            for name in list {
                guard let field = entity.field(named: name.value) else {
                    if entity.incomplete { continue }  // the field itself failed to load and was reported
                    diagnostics.error(
                        "unknown \(kind) '\(name.value)' for \(owner)\(NameSuggestion.hint(for: name.value, in: fieldNames))",
                        at: name.location)
                    continue
                }
                if [.scalar(.secret), .scalar(.json), .scalar(.bytes)].contains(field.kind) {
                    diagnostics.error("field '\(field.name)' of \(owner) cannot be a \(kind): its type does not compare", at: name.location)
                } else if kind == "range", !Self.rangeKinds.contains(field.kind) {
                    diagnostics.error(
                        "field '\(field.name)' of \(owner) cannot be a range: only timestamps, dates and numbers have one; "
                            + "make it a filter instead", at: name.location)
                }
            }
        }
    }

    /// The field types a `ranges:` entry may name: those whose order means something to an operator.
    static let rangeKinds: [FieldKind] = [
        .scalar(.timestamp), .scalar(.date), .scalar(.int), .scalar(.bigint), .scalar(.double), .scalar(.decimal),
    ]

    private mutating func check(_ cache: ListCacheDeclaration, of entity: EntityDeclaration, api: APIDeclaration) {
        let what = "the list_cache of entity '\(entity.name)'"
        if api.roles[.list] == nil {
            diagnostics.error("\(what) caches a list route the entity does not have; add 'list' to its api or drop list_cache",
                              at: cache.location)
        }
        // An answer may be this stale when no event announces a change: keep it short enough for an operator's screen.
        if !(1...60).contains(cache.maxAgeSeconds) {
            diagnostics.error("'max_age' of \(what) must be between 1s and 60s, found \(cache.maxAgeSeconds)s", at: cache.location)
        }
        let eventNames = schema.events.map(\.name)
        for event in cache.invalidatedBy where !eventNames.contains(event.value) {
            diagnostics.error("unknown event '\(event.value)' in 'invalidated_by' of \(what)\(NameSuggestion.hint(for: event.value, in: eventNames))",
                              at: event.location)
        }
    }

    mutating func checkRoles(_ roles: [Located<String>], for what: String) {
        let declared = schema.roles.map(\.value)
        for role in roles where !declared.contains(role.value) {
            diagnostics.error(
                "unknown role '\(role.value)' for \(what)\(NameSuggestion.hint(for: role.value, in: declared))",
                at: role.location)
        }
    }
}
