import Testing
@testable import GeneratorCore

/// One test per class of schema error: the exact `file:line:col: error: message` a developer sees.
@Suite struct ValidationTests {
    static let site = """
        roles: [operator, admin]
        enums:
          AlarmState: [new, closed]
        entities:
          Site:
            fields:
              id: { type: uuid, primary: true }
              name: { type: string, max: 100, personal: false }

        """

    static let queues = """
        exchanges:
          events: { type: topic }
        queues:
          all: { bind: ["events:#"] }

        """

    static let environments = """
        environments:
          prod: {}
          dev: {}
        networks:
          internal: { driver: bridge }
        secrets:
          db_password: {}
        images:
          app: { dockerfile: Dockerfile }

        """

    @Test func anActionAnswersWithAKnownStatusAndAnEntityOnlyWhenItHasContent() {
        #expect(SchemaSnippet.errors(entities: Self.site + """
              Panel:
                fields:
                  id: { type: uuid, primary: true }
                actions:
                  arm: { roles: [admin], status: 203 }
                  reset: { roles: [admin], status: 204, returns: Site }
                  probe: { roles: [admin], returns: Sit }
                  mark: { roles: [admin], body: { at: { type: json } } }
            """) == [
                "schema/entities.yaml:13:38: error: 'status' of action 'arm' must be one of 200, 201, 202, 204, found 203",
                "schema/entities.yaml:14:54: error: action 'reset' answers 204 (no content) and cannot return 'Site'; drop 'returns' or choose another status",
                "schema/entities.yaml:15:41: error: action 'probe' returns 'Sit', which is not an entity; did you mean 'Site'?",
                "schema/entities.yaml:16:39: error: field 'at' of the body of action 'mark' of entity 'Panel' is of type json; an action's body takes bigint, bool, int, secret, string, text, timestamp, uuid, enums and refs",
            ])
    }

    /// A collection action answers with a page of rows (so the entity needs a list route) or nothing; `list:` reads
    /// ints or ids of rows, nothing else.
    @Test func aCollectionActionAnswersAPageOrNothingAndListsOnlyIntsOrIds() {
        #expect(SchemaSnippet.errors(entities: Self.site + """
              Panel:
                fields:
                  id: { type: uuid, primary: true }
                actions:
                  rearm: { roles: [admin], collection: true, status: 202 }
                  reset: { roles: [admin], collection: true, body: { panel_ids: { ref: Panel, list: true } } }
                  mark: { roles: [admin], body: { names: { type: text, list: true } } }
            """) == [
                "schema/entities.yaml:13:58: error: collection action 'rearm' answers 200 (the rows it changed) or 204; found 202",
                "schema/entities.yaml:14:44: error: collection action 'reset' answers with a page of 'Panel', which has no list route; add 'list' to its api or answer 204",
                "schema/entities.yaml:15:66: error: 'list' is supported for int fields (numbers of partitions, zones, outputs) and refs to uuid keys (the rows a collection action names); field 'names' of the body of action 'mark' of entity 'Panel' is not one",
            ])
    }

    /// The alarm stack names every AlarmPriority value in order and puts every AlarmKind in one class; a rename
    /// points at a value that exists.
    @Test func theAlarmStackCoversEveryPriorityAndKindOnce() {
        #expect(SchemaSnippet.errors(entities: """
            roles: [operator]
            enums:
              AlarmPriority: { values: [fire, burglary, trouble], renamed: { critical: fyre, burglary: fire } }
              AlarmKind: [fire, burglary, tamper]
            alarm_stack:
              classes:
                burglary: { acknowledge_within: 60s, kinds: [burglary, fire] }
                fire: { acknowledge_within: 0s, kinds: [fire, smoke] }
                troubel: { acknowledge_within: 5m }
            entities:
              Site:
                fields:
                  id: { type: uuid, primary: true }

            """) == [
                "schema/entities.yaml:3:45: error: AlarmPriority value 'trouble' has no alarm class; add it to 'classes' of the alarm stack with its 'acknowledge_within'",
                "schema/entities.yaml:3:76: error: 'critical' is renamed to 'fyre', which is not a value of enum 'AlarmPriority'; did you mean 'fire'?",
                "schema/entities.yaml:3:82: error: 'burglary' is renamed but is still a value of enum 'AlarmPriority'; remove it from 'values' or from 'renamed'",
                "schema/entities.yaml:4:31: error: AlarmKind value 'tamper' is in no alarm class; add it to the 'kinds' of one",
                "schema/entities.yaml:8:5: error: alarm class 'fire' is out of order; list the classes in AlarmPriority's order, most urgent first (fire, burglary, trouble)",
                "schema/entities.yaml:8:33: error: 'acknowledge_within' of alarm class 'fire' must be positive, e.g. 60s",
                "schema/entities.yaml:8:45: error: AlarmKind 'fire' is in alarm classes 'burglary' and 'fire'; an alarm kind has one class",
                "schema/entities.yaml:8:51: error: 'smoke' in alarm class 'fire' is not a value of AlarmKind",
                "schema/entities.yaml:9:5: error: alarm class 'troubel' is not a value of AlarmPriority; did you mean 'trouble'?",
            ])
    }

    @Test func unknownTypeSuggestsTheNearest() {
        #expect(SchemaSnippet.errors(entities: Self.site + """
              Panel:
                fields:
                  id: { type: uuidd, primary: true }
            """) == ["schema/entities.yaml:11:19: error: unknown type 'uuidd'; did you mean 'uuid'?"])
    }

    @Test func aCreateRouteNeedsEveryRequiredFieldWritable() {
        #expect(SchemaSnippet.errors(entities: Self.site + """
              Panel:
                fields:
                  id: { type: uuid, primary: true }
                  cursor: { type: int, readonly: true }
                  seen: { type: timestamp, readonly: true, optional: true }
                api: { create: [admin] }
            """) == ["schema/entities.yaml:12:7: error: field 'cursor' of entity 'Panel' is readonly and required without a default, so the generated create route cannot fill it; give it a default, make it optional, or drop 'create'"])
    }

    @Test func unknownReferenceSuggestsTheNearestEntity() {
        #expect(SchemaSnippet.errors(entities: Self.site + """
              Panel:
                fields:
                  id: { type: uuid, primary: true }
                  site_id: { ref: Sitee, on_delete: cascade }
            """) == ["schema/entities.yaml:12:23: error: field 'site_id' of entity 'Panel' refers to 'Sitee', which is not an entity; did you mean 'Site'?"])
    }

    @Test func unknownEnumSuggestsTheNearestEnum() {
        #expect(SchemaSnippet.errors(entities: Self.site + """
              Alarm:
                fields:
                  id: { type: uuid, primary: true }
                  state: { enum: AlarmStat }
            """) == ["schema/entities.yaml:12:22: error: unknown enum 'AlarmStat' for field 'state' of entity 'Alarm'; did you mean 'AlarmState'?"])
    }

    @Test func eventAggregateMustBeAnEntity() {
        #expect(SchemaSnippet.errors(entities: Self.site, events: """
            events:
              SiteRenamed:
                aggregate: Sites
                routing_key: site.renamed
                exchange: events
                payload: { site_id: uuid }
            """, queues: Self.queues) == ["schema/events.yaml:3:16: error: the aggregate of event 'SiteRenamed' is 'Sites', which is not an entity; did you mean 'Site'?"])
    }

    @Test func eventAggregateIdMustBeInThePayload() {
        #expect(SchemaSnippet.errors(entities: Self.site, events: """
            events:
              SiteRenamed:
                aggregate: Site
                routing_key: site.renamed
                exchange: events
                payload: { sites_id: uuid }
            """, queues: Self.queues) == ["schema/events.yaml:3:16: error: event 'SiteRenamed' has no payload field 'site_id' carrying the id of its aggregate 'Site'; did you mean 'sites_id'?"])
    }

    @Test func aListCacheNamesKnownEventsABoundedAgeAndAListRoute() {
        let events = """
            events:
              SiteRenamed:
                aggregate: Site
                routing_key: site.renamed
                exchange: events
                payload: { site_id: uuid }
            """
        #expect(SchemaSnippet.errors(entities: Self.site + """
              Panel:
                fields:
                  id: { type: uuid, primary: true }
                api:
                  list: [operator]
                  list_cache: { max_age: 1s, invalidated_by: [SiteRenamd] }
            """, events: events, queues: Self.queues) == ["schema/entities.yaml:14:51: error: unknown event 'SiteRenamd' in 'invalidated_by' of the list_cache of entity 'Panel'; did you mean 'SiteRenamed'?"])
        #expect(SchemaSnippet.errors(entities: Self.site + """
              Panel:
                fields:
                  id: { type: uuid, primary: true }
                api:
                  read: [operator]
                  list_cache: { max_age: 2m, invalidated_by: [SiteRenamed] }
            """, events: events, queues: Self.queues) == [
                "schema/entities.yaml:14:19: error: the list_cache of entity 'Panel' caches a list route the entity does not have; add 'list' to its api or drop list_cache",
                "schema/entities.yaml:14:19: error: 'max_age' of the list_cache of entity 'Panel' must be between 1s and 60s, found 120s",
            ])
        #expect(SchemaSnippet.errors(entities: Self.site + """
              Panel:
                fields:
                  id: { type: uuid, primary: true }
                api:
                  list: [operator]
                  list_cache: { invalidated_by: [SiteRenamed] }
            """, events: events, queues: Self.queues) == ["schema/entities.yaml:14:19: error: the list_cache of entity 'Panel' needs 'max_age' (how stale an answer may be at most, e.g. 1s)"])
    }

    @Test func duplicateTypeNamesAcrossKinds() {
        #expect(SchemaSnippet.errors(entities: Self.site + """
              AlarmState:
                fields:
                  id: { type: uuid, primary: true }
            """) == ["schema/entities.yaml:9:3: error: duplicate name 'AlarmState': already declared as enum at schema/entities.yaml:3:3"])
    }

    @Test func duplicateKeysInOneMapping() {
        #expect(SchemaSnippet.errors(entities: Self.site + """
              Panel:
                fields:
                  id: { type: uuid, primary: true }
                  name: { type: string, personal: false }
                  name: { type: text, personal: false }
            """) == ["schema/entities.yaml:12:7: error: duplicate key 'name' in one mapping; each name may be declared once"])
    }

    @Test func queueBoundToMissingExchange() {
        #expect(SchemaSnippet.errors(queues: """
            exchanges:
              events: { type: topic }
            queues:
              alarms: { bind: ["event:alarm.#"] }
            """) == ["schema/queues.yaml:4:20: error: queue 'alarms' is bound to exchange 'event', which is not declared; did you mean 'events'?"])
    }

    @Test func queueDeadLettersToMissingExchange() {
        #expect(SchemaSnippet.errors(queues: """
            exchanges:
              events: { type: topic }
            queues:
              alarms: { bind: ["events:alarm.#"], dead_letter: dead }
            """) == ["schema/queues.yaml:4:52: error: queue 'alarms' dead-letters to exchange 'dead', which is not declared"])
    }

    @Test func aQueueLimitNeedsAPositiveCountOnASharedQueue() {
        #expect(SchemaSnippet.errors(queues: """
            exchanges:
              events: { type: topic }
            queues:
              alarms: { bind: ["events:alarm.#"], limit: { messages: 0 } }
              live: { type: classic, per_instance: true, bind: ["events:#"], limit: { messages: 10, overflow: drop-head } }
            """) == [
            "schema/queues.yaml:4:58: error: the message limit of queue 'alarms' must be at least 1",
            "schema/queues.yaml:5:85: error: queue 'live' is per instance: its bound is 'max_length' (declared with each instance's queue), not 'limit'",
        ])
    }

    @Test func serviceDependingOnMissingService() {
        #expect(SchemaSnippet.errors(deployment: Self.environments + """
            services:
              db: { image: app, networks: [internal], secrets: [db_password] }
              api: { image: app, depends_on: [dbb], networks: [internal] }
            """) == ["schema/deployment.yaml:12:35: error: service 'api' depends on 'dbb', which is not a service; did you mean 'db'?"])
    }

    @Test func dependencyCycle() {
        #expect(SchemaSnippet.errors(deployment: Self.environments + """
            services:
              a: { image: app, depends_on: [b], networks: [internal], secrets: [db_password] }
              b: { image: app, depends_on: [c] }
              c: { image: app, depends_on: [a] }
            """) == [
                "schema/deployment.yaml:13:33: error: dependency cycle in environment 'prod': a -> b -> c -> a",
                "schema/deployment.yaml:13:33: error: dependency cycle in environment 'dev': a -> b -> c -> a",
            ])
    }

    @Test func dependencyOnServiceAbsentFromTheEnvironment() {
        #expect(SchemaSnippet.errors(deployment: Self.environments + """
            services:
              db: { image: app, instances: { prod: 1, dev: 0 }, networks: [internal], secrets: [db_password] }
              api: { image: app, depends_on: [db] }
            """) == ["schema/deployment.yaml:12:35: error: service 'api' depends on 'db' in environment 'dev', where 'db' does not run"])
    }

    @Test func secretUsedButNotDeclared() {
        #expect(SchemaSnippet.errors(deployment: Self.environments + """
            services:
              db: { image: app, networks: [internal], secrets: [db_pasword] }
            """) == ["schema/deployment.yaml:11:53: error: service 'db' uses secret 'db_pasword', which is not declared under 'secrets:'; did you mean 'db_password'?"])
    }

    @Test func networkUsedButNotDeclared() {
        #expect(SchemaSnippet.errors(deployment: Self.environments + """
            services:
              db: { image: app, networks: [internal, satel_vlan], secrets: [db_password] }
            """) == ["schema/deployment.yaml:11:42: error: service 'db' uses network 'satel_vlan', which is not declared under 'networks:'"])
    }

    @Test func secretsNeverGoInEnvironmentVariables() {
        #expect(SchemaSnippet.errors(deployment: Self.environments + """
            services:
              db: { image: app, networks: [internal], secrets: [db_password], env: { DB_PASSWORD: hunter2 } }
            """) == ["schema/deployment.yaml:11:74: error: environment variable 'DB_PASSWORD' of service 'db' looks like a secret; secrets are files: declare it under 'secrets:' and list it in the service's 'secrets'"])
    }

    @Test func reservedSQLWordsAreRefused() {
        #expect(SchemaSnippet.errors(entities: Self.site + """
              Alarm:
                fields:
                  id: { type: uuid, primary: true }
                  order: { type: int }
            """) == ["schema/entities.yaml:12:7: error: field name 'order' is a reserved word in SQL; choose another name such as 'alarm_order'"])
    }

    @Test func reservedTableNameIsRefused() {
        #expect(SchemaSnippet.errors(entities: Self.site + """
              Grant:
                table: grant
                fields:
                  id: { type: uuid, primary: true }
            """) == ["schema/entities.yaml:10:12: error: table name 'grant' is a reserved word in SQL; choose another name such as 'grant_grant'"])
    }

    @Test func invalidIdentifiers() {
        #expect(SchemaSnippet.errors(entities: Self.site + """
              panel-event:
                fields:
                  id: { type: uuid, primary: true }
                  Zone Number: { type: int }
            """) == [
                "schema/entities.yaml:9:3: error: invalid identifier 'panel-event' for an entity: use UpperCamelCase letters and digits, starting with a capital letter; did you mean 'PanelEvent'?",
                "schema/entities.yaml:12:7: error: invalid identifier 'Zone Number' for field name: use lower snake_case (a-z, 0-9, _), starting with a letter, at most 63 characters; did you mean 'zone_number'?",
            ])
    }

    @Test func unknownKeySuggestsTheNearest() {
        #expect(SchemaSnippet.errors(entities: Self.site + """
              Panel:
                fields:
                  id: { type: uuid, primary: true }
                  host: { type: string, optinal: true, personal: false }
            """) == ["schema/entities.yaml:12:29: error: unknown key 'optinal' in field 'host' of entity 'Panel'; did you mean 'optional'? (expected one of: type, enum, ref, optional, primary, unique, max, min, format, range, default, on_delete, readonly, personal, doc)"])
    }

    @Test func inputRulesApplyToTheirTypesOnly() {
        #expect(SchemaSnippet.errors(entities: Self.site + """
              Panel:
                fields:
                  id: { type: uuid, primary: true }
                  host: { type: string, max: 10, min: 11, format: hostnme, personal: false }
                  port: { type: int, range: [65535, 1] }
                  note: { type: int, min: 1, format: login }
                  name: { type: string, range: [1, 2], personal: false }
            """) == [
                "schema/entities.yaml:12:43: error: 'min' of field 'host' of entity 'Panel' must be between 0 and its 'max', found 11",
                "schema/entities.yaml:12:55: error: unknown format 'hostnme'; did you mean 'hostname'? (expected one of: login, hostname, phone, e164, time_of_day, time_zone, hex_digits, aes_key_hex, aes_key_text)",
                "schema/entities.yaml:13:33: error: 'range' of field 'port' of entity 'Panel' must be [low, high] with low <= high, e.g. range: [1, 65535]",
                "schema/entities.yaml:14:31: error: 'min' applies only to fields of type string or text; field 'note' of entity 'Panel' is not one",
                "schema/entities.yaml:14:42: error: 'format' applies only to fields of type string; field 'note' of entity 'Panel' is not one",
                "schema/entities.yaml:15:36: error: 'range' applies only to fields of type int or bigint; field 'name' of entity 'Panel' is not one",
            ])
    }

    /// A DC-09 key is hex digits or text by its key_form: the selector is an enum field of the entity, every one of its
    /// values has a format, and only a secret takes such a rule.
    @Test func aFormatChosenByAnotherFieldNamesAnEnumFieldAndCoversEveryValue() {
        #expect(SchemaSnippet.errors(entities: Self.site + """
              Account:
                fields:
                  id: { type: uuid, primary: true }
                  form: { enum: AlarmState }
                  label: { type: string, max: 10, personal: false }
                  key: { type: secret, format: { by: form, new: aes_key_hex, closd: aes_key_text }, optional: true, personal: secret }
                  other: { type: secret, format: { by: label, new: aes_key_hex }, optional: true, personal: secret }
                  third: { type: secret, format: { by: frm, new: aes_key_hex }, optional: true, personal: secret }
                  fourth: { type: secret, format: { new: aes_key_hex }, optional: true, personal: secret }
                  plain: { type: string, max: 64, format: { by: form, new: aes_key_hex, closed: aes_key_text }, personal: false }
            """) == [
                "schema/entities.yaml:14:36: error: field 'key' of entity 'Account' has no format for 'closed' of AlarmState; add 'closed: <format>' "
                    + "(one of login, hostname, phone, e164, time_of_day, time_zone, hex_digits, aes_key_hex, aes_key_text)",
                "schema/entities.yaml:14:66: error: 'closd' is not a value of AlarmState; did you mean 'closed'?",
                "schema/entities.yaml:15:44: error: 'by' of the format of field 'other' of entity 'Account' must name an enum field; 'label' is not one",
                "schema/entities.yaml:16:44: error: unknown field 'frm' in 'by' of the format of field 'third' of entity 'Account'; did you mean 'form'?",
                "schema/entities.yaml:17:39: error: a 'format' mapping of field 'fourth' of entity 'Account' needs 'by': the enum field that picks the format, "
                    + "e.g. format: { by: key_form, hex: aes_key_hex }",
                "schema/entities.yaml:18:47: error: the format of field 'plain' of entity 'Account' is chosen by another field, which only a secret field "
                    + "may be (its value is encrypted, so the API checks it); give a string field one format, e.g. format: hex_digits",
            ])
    }

    /// Every field that can hold text says whether it is personal; the kind must fit its type, its format and
    /// whether it may be null, since `stam snapshot` writes the replacement under the field's own rules.
    @Test func everyTextFieldSaysWhetherItIsPersonalAndTheKindFitsIt() {
        #expect(SchemaSnippet.errors(entities: Self.site + """
              Person:
                fields:
                  id: { type: uuid, primary: true }
                  nick: { type: string, max: 40 }
                  phone: { type: string, max: 32, format: phone, personal: name }
                  login: { type: string, max: 64, format: login, personal: true }
                  pin: { type: secret, personal: false }
                  key: { type: secret, personal: secret }
                  site: { type: string, max: 64, personal: hots }
                  age: { type: int, personal: false }
                  raw: { type: bytes, personal: phone }
                  short: { type: string, max: 8, optional: true, format: phone, personal: phone }
            """) == [
                "schema/entities.yaml:12:7: error: field 'nick' of entity 'Person' can hold personal data: say which kind with 'personal: <kind>' "
                    + "(name, address, text, phone, login, ip, secret, host, json), or 'personal: false'",
                "schema/entities.yaml:13:64: error: 'personal: name' would write values that are not a telephone number: digits, spaces, '-', '(', ')' "
                    + "and an optional leading '+' into field 'phone' of entity 'Person'; use the kind of its format or 'personal: false'",
                "schema/entities.yaml:14:64: error: 'personal' of field 'login' of entity 'Person' names the kind of personal data, not true "
                    + "(one of: name, address, text, phone, login, ip, secret, host, json), or is false",
                "schema/entities.yaml:15:38: error: field 'pin' of entity 'Person' is a secret, encrypted with production's key, which STAGE does not have: mark it 'personal: secret'",
                "schema/entities.yaml:16:38: error: 'personal: secret' replaces field 'key' of entity 'Person' with null, so it must be optional",
                "schema/entities.yaml:17:48: error: unknown kind of personal data 'hots'; did you mean 'host'? (expected one of: name, address, text, phone, login, ip, secret, host, json)",
                "schema/entities.yaml:18:35: error: 'personal' applies only to fields of type string, text, json, secret or bytes; field 'age' of entity 'Person' is not one",
                "schema/entities.yaml:19:37: error: 'personal: phone' does not fit field 'raw' of entity 'Person', of type bytes",
                "schema/entities.yaml:20:79: error: field 'short' of entity 'Person' is too short for a replacement phone number (+48 and nine digits); give it max: 12 or more",
            ])
    }

    @Test func indexOnUnknownField() {
        #expect(SchemaSnippet.errors(entities: Self.site + """
              Panel:
                fields:
                  id: { type: uuid, primary: true }
                  host: { type: string, personal: false }
                indexes: [[hots]]
            """) == ["schema/entities.yaml:13:16: error: unknown field 'hots' in an index of entity 'Panel'; did you mean 'host'?"])
    }

    @Test func defaultMustMatchTheType() {
        #expect(SchemaSnippet.errors(entities: Self.site + """
              Panel:
                fields:
                  id: { type: uuid, primary: true }
                  port: { type: int, default: seven }
                  state: { enum: AlarmState, default: opened }
            """) == [
                "schema/entities.yaml:12:35: error: default 'seven' of field 'port' of entity 'Panel' is not valid: expected a literal of type int",
                "schema/entities.yaml:13:43: error: default 'opened' of field 'state' of entity 'Panel' is not a value of enum 'AlarmState'",
            ])
    }

    @Test func invalidYAMLIsReportedWithItsPosition() {
        let errors = SchemaSnippet.errors(entities: "entities:\n  Site:\n    fields: { id: [uuid\n")
        #expect(errors.count == 1)
        #expect(errors.first?.hasPrefix("schema/entities.yaml:4:1: error: invalid YAML: ") == true)
    }

    @Test func everyErrorOfARunIsReported() {
        let errors = SchemaSnippet.errors(entities: Self.site + """
              Panel:
                fields:
                  id: { type: uuidd, primary: true }
                  site_id: { ref: Sitee }
                  state: { enum: AlarmStat }
            """, queues: "exchanges: {}\nqueues:\n  q: { bind: [\"nowhere:x\"] }\n")
        #expect(errors.count == 4)
        #expect(errors.allSatisfy { $0.contains(": error: ") })
    }

    @Test func aFieldThatFailedToLoadDoesNotCascade() {
        #expect(SchemaSnippet.errors(entities: Self.site + """
              Panel:
                fields:
                  id: { type: uuid, primary: true }
                  host: { type: strin }
                indexes: [[host]]
                api: { list: [operator], filters: [host], sort: [host] }
            """) == ["schema/entities.yaml:12:21: error: unknown type 'strin'; did you mean 'string'?"])
    }

    /// `ranges:` bound a list by an ordered field; a field without a meaningful order, or none at all, is named.
    @Test func aRangeNeedsAnOrderedFieldOfTheEntity() {
        #expect(SchemaSnippet.errors(entities: Self.site + """
              Panel:
                fields:
                  id: { type: uuid, primary: true }
                  active: { type: bool }
                  created_at: { type: timestamp }
                api: { list: [operator], ranges: [active, created_at, creted_at] }
            """) == [
            "schema/entities.yaml:14:39: error: field 'active' of entity 'Panel' cannot be a range: only timestamps, dates and numbers have one; make it a filter instead",
            "schema/entities.yaml:14:59: error: unknown range 'creted_at' for entity 'Panel'; did you mean 'created_at'?",
        ])
    }
}
