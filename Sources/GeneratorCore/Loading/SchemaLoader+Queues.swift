/// `schema/queues.yaml`: exchanges and queues.
extension SchemaLoader {
    static let queueKeys = ["type", "doc", "bind", "dead_letter", "delivery_limit", "per_instance", "expires_ms", "max_length", "limit"]

    func loadQueuesFile(_ root: SchemaNode) {
        guard let top = mapping(root, "the queues file", allowed: ["exchanges", "queues"]) else { return }
        if let exchanges = value(top, "exchanges"), let entries = mapping(exchanges, "exchanges") {
            schema.exchanges = entries.compactMap { entry in
                let what = "exchange '\(entry.key)'"
                guard let body = mapping(entry.value, what, allowed: ["type", "doc"]) else { return nil }
                let kind = value(body, "type").flatMap { choice($0, "exchange type", as: ExchangeDeclaration.Kind.self) } ?? .topic
                return ExchangeDeclaration(name: entry.key, location: entry.keyLocation, doc: doc(body), kind: kind)
            }
        }
        if let queues = value(top, "queues"), let entries = mapping(queues, "queues") {
            schema.queues = entries.compactMap(loadQueue)
        }
    }

    private func loadQueue(_ entry: SchemaNode.Entry) -> QueueDeclaration? {
        let what = "queue '\(entry.key)'"
        guard let body = mapping(entry.value, what, allowed: Self.queueKeys) else { return nil }
        let kind = value(body, "type").flatMap { choice($0, "queue type", as: QueueDeclaration.Kind.self) } ?? .quorum
        var queue = QueueDeclaration(name: entry.key, location: entry.keyLocation, kind: kind)
        queue.doc = doc(body)
        for binding in value(body, "bind").flatMap({ stringList($0, "the bindings of \(what)") }) ?? [] {
            let parts = binding.value.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                diagnostics.error("binding '\(binding.value)' of \(what) must be written 'exchange:routing_key'", at: binding.location)
                continue
            }
            queue.bindings.append(.init(exchange: Located(String(parts[0]), at: binding.location), routingKey: String(parts[1])))
        }
        queue.deadLetterExchange = value(body, "dead_letter").flatMap { locatedString($0, "'dead_letter' of \(what)") }
        queue.deliveryLimit = value(body, "delivery_limit").flatMap { int($0, "'delivery_limit' of \(what)") }
        queue.perInstance = value(body, "per_instance").flatMap { bool($0, "'per_instance' of \(what)") } ?? false
        queue.expiresMilliseconds = value(body, "expires_ms").flatMap { int($0, "'expires_ms' of \(what)") }
        queue.maxLength = value(body, "max_length").flatMap { int($0, "'max_length' of \(what)") }
        if let node = value(body, "limit"), let limit = mapping(node, "the limit of \(what)", allowed: ["messages", "overflow"]) {
            let overflow = value(limit, "overflow").flatMap { choice($0, "overflow of \(what)", as: QueueDeclaration.Limit.Overflow.self) }
                ?? .rejectPublish
            if let messagesNode = value(limit, "messages"), let messages = int(messagesNode, "the message limit of \(what)") {
                queue.limit = .init(messages: Located(messages, at: messagesNode.location), overflow: overflow)
            } else {
                diagnostics.error("the limit of \(what) needs 'messages' (how many it may hold)", at: node.location)
            }
        }
        return queue
    }
}
