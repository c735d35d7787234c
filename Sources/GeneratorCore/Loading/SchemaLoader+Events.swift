/// `schema/events.yaml`: the domain events.
extension SchemaLoader {
    static let eventKeys = ["doc", "aggregate", "aggregate_field", "routing_key", "exchange", "version", "payload"]

    func loadEventsFile(_ root: SchemaNode) {
        guard let top = mapping(root, "the events file", allowed: ["events"]) else { return }
        guard let events = value(top, "events"), let entries = mapping(events, "events") else { return }
        schema.events = entries.compactMap(loadEvent)
    }

    private func loadEvent(_ entry: SchemaNode.Entry) -> EventDeclaration? {
        let what = "event '\(entry.key)'"
        guard let body = mapping(entry.value, what, allowed: Self.eventKeys) else { return nil }
        func required(_ key: String) -> Located<String>? {
            guard let node = value(body, key) else {
                diagnostics.error("\(what) has no '\(key)'", at: entry.keyLocation)
                return nil
            }
            return locatedString(node, "'\(key)' of \(what)")
        }
        let aggregate = required("aggregate")
        let routingKey = required("routing_key")
        let exchange = required("exchange")
        let version = value(body, "version").flatMap { int($0, "'version' of \(what)") } ?? 1
        let payload = value(body, "payload").flatMap { mapping($0, "the payload of \(what)") }?
            .compactMap { loadField($0, owner: what, allowsEntityKeys: false) } ?? []
        guard let aggregate, let routingKey, let exchange else { return nil }
        let aggregateField = value(body, "aggregate_field").flatMap { locatedString($0, "'aggregate_field' of \(what)") }
            ?? Located(Naming.snakeCase(aggregate.value) + "_id", at: aggregate.location)
        return EventDeclaration(
            name: entry.key, location: entry.keyLocation, doc: doc(body), aggregate: aggregate,
            aggregateField: aggregateField, routingKey: routingKey, exchange: exchange,
            version: version, payload: payload)
    }
}
