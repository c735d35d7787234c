/// `Sources/Generated/StamTopology.swift`: the RabbitMQ topology of `schema/queues.yaml` as a value the
/// messaging runtime declares at start-up.
struct SwiftTopologyRenderer {
    let schema: Schema

    func render() -> GeneratedFile {
        var writer = SwiftWriter()
        writer.line("import StamCore")
        writer.line()
        writer.doc("The exchanges, queues and bindings of schema/queues.yaml.")
        writer.block("public enum StamTopology") { writer in
            writer.line("public static let messaging = MessagingTopology(")
            writer.line("    exchanges: [")
            for exchange in schema.exchanges {
                writer.line("        .init(name: \(SwiftNames.literal(exchange.name)), type: \(SwiftNames.literal(exchange.kind.rawValue))),")
            }
            writer.line("    ],")
            writer.line("    queues: [")
            for queue in schema.queues {
                var arguments = ["name: \(SwiftNames.literal(queue.name))", "quorum: \(queue.kind == .quorum)"]
                if queue.perInstance { arguments.append("perInstance: true") }
                if let exchange = queue.deadLetterExchange { arguments.append("deadLetterExchange: \(SwiftNames.literal(exchange.value))") }
                if let limit = queue.deliveryLimit { arguments.append("deliveryLimit: \(limit)") }
                if let expires = queue.expiresMilliseconds { arguments.append("expiresMilliseconds: \(expires)") }
                if let maxLength = queue.maxLength { arguments.append("maxLength: \(maxLength)") }
                let bindings = queue.bindings.map {
                    ".init(exchange: \(SwiftNames.literal($0.exchange.value)), routingKey: \(SwiftNames.literal($0.routingKey)))"
                }
                arguments.append("bindings: [\(bindings.joined(separator: ", "))]")
                writer.line("        .init(\(arguments.joined(separator: ", "))),")
            }
            writer.line("    ])")
        }
        return GeneratedFile(path: "\(SwiftModelRenderer.outputDirectory)/StamTopology.swift",
                             contents: GeneratedFile.swiftHeader(source: SchemaFile.queues.path) + writer.text)
    }
}
