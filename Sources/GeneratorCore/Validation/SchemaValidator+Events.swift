/// Events, exchanges and queues.
extension SchemaValidator {
    /// A routing key as RabbitMQ topic exchanges read it: dot-separated words of a-z, 0-9, _ and -.
    static func isRoutingKey(_ key: String, allowWildcards: Bool) -> Bool {
        let words = key.split(separator: ".", omittingEmptySubsequences: false)
        return !words.isEmpty && words.allSatisfy { word in
            if allowWildcards && (word == "*" || word == "#") { return true }
            return !word.isEmpty && word.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_" || $0 == "-") }
        }
    }

    mutating func check(_ event: EventDeclaration) {
        let owner = "event '\(event.name)'"
        let aggregate = schema.entity(named: event.aggregate.value)
        if aggregate == nil {
            diagnostics.error(
                "the aggregate of \(owner) is '\(event.aggregate.value)', which is not an entity\(NameSuggestion.hint(for: event.aggregate.value, in: schema.entities.map(\.name)))",
                at: event.aggregate.location)
        }
        if !Self.isRoutingKey(event.routingKey.value, allowWildcards: false) {
            diagnostics.error(
                "invalid routing key '\(event.routingKey.value)' for \(owner): use dot-separated words of a-z, 0-9, _ and - (no wildcards)",
                at: event.routingKey.location)
        }
        if !schema.exchanges.contains(where: { $0.name == event.exchange.value }) {
            diagnostics.error(
                "\(owner) is published to exchange '\(event.exchange.value)', which is not declared in schema/queues.yaml\(NameSuggestion.hint(for: event.exchange.value, in: schema.exchanges.map(\.name)))",
                at: event.exchange.location)
        }
        if event.version < 1 {
            diagnostics.error("the version of \(owner) must be 1 or more", at: event.location)
        }
        var seen = Set<String>()
        for field in event.payload {
            checkSnakeName(field.name, "payload field name", at: field.location, context: Naming.snakeCase(event.name))
            if !seen.insert(field.name).inserted {
                diagnostics.error("duplicate payload field '\(field.name)' in \(owner)", at: field.location)
            }
            checkKind(of: field, in: owner)
        }
        guard aggregate != nil else { return }
        let idField = event.aggregateField
        guard let field = event.payload.first(where: { $0.name == idField.value }) else {
            diagnostics.error(
                "\(owner) has no payload field '\(idField.value)' carrying the id of its aggregate '\(event.aggregate.value)'\(NameSuggestion.hint(for: idField.value, in: event.payload.map(\.name)))",
                at: idField.location)
            return
        }
        let isAggregateID = field.kind == .scalar(.uuid) || field.kind == .reference(Located(event.aggregate.value, at: field.location))
        if !isAggregateID || field.optional {
            diagnostics.error("payload field '\(field.name)' of \(owner) carries the aggregate id and must be a required uuid", at: field.location)
        }
    }

    mutating func checkExchangesAndQueues() {
        let exchangeNames = schema.exchanges.map(\.name)
        var seen = Set<String>()
        for exchange in schema.exchanges where !seen.insert(exchange.name).inserted {
            diagnostics.error("duplicate exchange '\(exchange.name)'", at: exchange.location)
        }
        for exchange in schema.exchanges where !Self.isRoutingKey(exchange.name, allowWildcards: false) {
            diagnostics.error("invalid identifier '\(exchange.name)' for an exchange: use a-z, 0-9, _, - and .", at: exchange.location)
        }
        seen.removeAll()
        for queue in schema.queues {
            let owner = "queue '\(queue.name)'"
            if !seen.insert(queue.name).inserted {
                diagnostics.error("duplicate queue '\(queue.name)'", at: queue.location)
            }
            if !Self.isRoutingKey(queue.name, allowWildcards: false) {
                diagnostics.error("invalid identifier '\(queue.name)' for a queue: use a-z, 0-9, _, - and .", at: queue.location)
            }
            if queue.bindings.isEmpty {
                diagnostics.warning("\(owner) has no bindings, so nothing will ever reach it", at: queue.location)
            }
            for binding in queue.bindings {
                guard let exchange = schema.exchanges.first(where: { $0.name == binding.exchange.value }) else {
                    diagnostics.error(
                        "\(owner) is bound to exchange '\(binding.exchange.value)', which is not declared\(NameSuggestion.hint(for: binding.exchange.value, in: exchangeNames))",
                        at: binding.exchange.location)
                    continue
                }
                let wildcards = exchange.kind == .topic
                if !Self.isRoutingKey(binding.routingKey, allowWildcards: wildcards) {
                    diagnostics.error(
                        "invalid binding key '\(binding.routingKey)' for \(owner) on \(exchange.kind.rawValue) exchange '\(exchange.name)'"
                            + (wildcards ? "" : " (wildcards work only on topic exchanges)"),
                        at: binding.exchange.location)
                }
            }
            if let deadLetter = queue.deadLetterExchange, !exchangeNames.contains(deadLetter.value) {
                diagnostics.error(
                    "\(owner) dead-letters to exchange '\(deadLetter.value)', which is not declared\(NameSuggestion.hint(for: deadLetter.value, in: exchangeNames))",
                    at: deadLetter.location)
            }
            if queue.kind == .classic && queue.deliveryLimit != nil {
                diagnostics.error("'delivery_limit' needs a quorum queue; \(owner) is classic", at: queue.location)
            }
            if let limit = queue.limit {
                if limit.messages.value < 1 {
                    diagnostics.error("the message limit of \(owner) must be at least 1", at: limit.messages.location)
                } else if queue.perInstance {
                    diagnostics.error("\(owner) is per instance: its bound is 'max_length' (declared with each instance's queue), not 'limit'",
                                      at: limit.messages.location)
                }
            }
            if queue.kind == .quorum && queue.perInstance {
                diagnostics.error("\(owner) is per instance and must be classic: per-instance queues expire with their instance", at: queue.location)
            }
        }
    }

    /// An event that no queue receives is published into the void; say so (a warning: it may be on purpose).
    mutating func checkEventRouting() {
        for event in schema.events {
            let bound = schema.queues.contains { queue in
                queue.bindings.contains { binding in
                    binding.exchange.value == event.exchange.value
                        && TopicPattern.matches(pattern: binding.routingKey, key: event.routingKey.value)
                }
            }
            if !bound && schema.exchanges.contains(where: { $0.name == event.exchange.value }) {
                diagnostics.warning(
                    "event '\(event.name)' (\(event.exchange.value):\(event.routingKey.value)) is bound to no queue; nobody will receive it",
                    at: event.routingKey.location)
            }
        }
    }
}

/// RabbitMQ topic matching: `*` is exactly one word, `#` zero or more words.
public enum TopicPattern {
    public static func matches(pattern: String, key: String) -> Bool {
        matches(pattern.split(separator: ".", omittingEmptySubsequences: false)[...],
                key.split(separator: ".", omittingEmptySubsequences: false)[...])
    }

    private static func matches(_ pattern: ArraySlice<Substring>, _ key: ArraySlice<Substring>) -> Bool {
        guard let head = pattern.first else { return key.isEmpty }
        if head == "#" {
            let rest = pattern.dropFirst()
            return (0...key.count).contains { matches(rest, key.dropFirst($0)) }
        }
        guard let word = key.first else { return false }
        return (head == "*" || head == word) && matches(pattern.dropFirst(), key.dropFirst())
    }
}
