/// `stamgen explain`: the resolved model in plain text, the way a new engineer wants to read it.
public enum SchemaExplainer {
    public static func explain(_ schema: Schema) -> String {
        var out = ""
        let model = DatabaseModelBuilder.build(schema)
        out += "TABLES (\(model.tables.count))\n"
        for table in model.tables {
            out += "  \(table.name)  primary key (\(table.primaryKey.joined(separator: ", ")))\n"
            for column in table.columns {
                out += "    \(column.name) \(column.type)\(column.nullable ? "" : " NOT NULL")"
                    + (column.defaultExpression.map { " DEFAULT \($0)" } ?? "") + "\n"
            }
            for key in table.foreignKeys {
                out += "    -> \(key.columns.joined(separator: ", ")) references \(key.referencedTable) on delete \(key.onDelete)\n"
            }
            for unique in table.uniqueConstraints { out += "    unique (\(unique.columns.joined(separator: ", ")))\n" }
            for index in table.indexes { out += "    index (\(index.columns.joined(separator: ", ")))\(index.predicate.map { " where \($0)" } ?? "")\n" }
        }
        out += "\nEVENTS (\(schema.events.count))\n"
        for event in schema.events {
            let queues = schema.queues.filter { queue in
                queue.bindings.contains { $0.exchange.value == event.exchange.value && TopicPattern.matches(pattern: $0.routingKey, key: event.routingKey.value) }
            }.map(\.name)
            out += "  \(event.name) v\(event.version): \(event.exchange.value):\(event.routingKey.value), ordered by \(event.aggregate.value).\(event.aggregateField.value) -> \(queues.isEmpty ? "(no queue)" : queues.joined(separator: ", "))\n"
        }
        out += "\nQUEUES (\(schema.queues.count))\n"
        for queue in schema.queues {
            out += "  \(queue.name) [\(queue.kind.rawValue)\(queue.perInstance ? ", per instance" : "")] <- "
                + queue.bindings.map { "\($0.exchange.value):\($0.routingKey)" }.joined(separator: ", ")
                + (queue.deadLetterExchange.map { "; dead letters -> \($0.value)" } ?? "") + "\n"
        }
        for environment in schema.deployment.environments {
            let services = schema.deployment.services.filter { !$0.instanceNames(in: environment.name).isEmpty }
            let count = services.reduce(0) { $0 + $1.instanceNames(in: environment.name).count }
            out += "\nENVIRONMENT \(environment.name): \(count) containers\n"
            for service in services {
                let dependencies = service.dependsOn?.value(in: environment.name)?.map(\.value) ?? []
                out += "  \(service.instanceNames(in: environment.name).joined(separator: ", ")) (\(service.image.value))"
                    + (dependencies.isEmpty ? "" : " after \(dependencies.joined(separator: ", "))") + "\n"
            }
        }
        return out
    }
}
