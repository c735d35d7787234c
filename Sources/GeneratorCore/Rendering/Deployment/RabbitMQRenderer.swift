/// `deploy/generated/rabbitmq/`: the definitions RabbitMQ loads at boot (the vhost, exchanges, queues and
/// bindings of schema/queues.yaml), rabbitmq.conf per environment (memory watermark from the container's
/// memory), enabled_plugins, and an entrypoint that writes the application user (password from the
/// secret) as a second definitions file before the image's own entrypoint runs.
///
/// Per-instance queues (`per_instance: true`) are not in the definitions: each consumer declares its own
/// when it starts (they expire when it is gone).
struct RabbitMQRenderer: DeploymentComponentRenderer {
    static let templateNames = ["rabbitmq.conf", "rabbitmq-definitions.json", "rabbitmq-entrypoint.sh"]
    static let definitionsDirectory = "/etc/rabbitmq/definitions"
    static let entrypoint = "/usr/local/bin/stam-rabbitmq-entrypoint"

    let schema: Schema
    let templates: DeploymentTemplates

    struct Argument { var key: String; var json: String }
    struct Exchange { var name: String; var type: String }
    struct Queue { var name: String; var arguments: [Argument]; var hasArguments: Bool }
    struct Binding { var source: String; var destination: String; var routingKey: String }

    struct DefinitionsView {
        var generated: String
        var vhost: String
        var exchanges: [Exchange]
        var queues: [Queue]
        var bindings: [Binding]
    }

    struct ConfigView {
        var environment: String
        var amqpPort: Int
        var managementPort: Int
        var metricsPort: Int
        var definitionsDirectory: String
        var memoryWatermark: String?
    }

    struct EntrypointView {
        var vhost: String
        var user: String
        var passwordSecret: String
        var definitionsDirectory: String
    }

    func environments() -> [String] {
        guard let service = schema.deployment.rabbitmq.flatMap({ schema.deployment.service(named: $0.service.value) }) else { return [] }
        return schema.deployment.environments.map(\.name).filter { service.runs(in: $0) }
    }

    func render() -> [GeneratedFile] {
        guard let settings = schema.deployment.rabbitmq, let service = schema.deployment.service(named: settings.service.value),
              !environments().isEmpty else { return [] }
        var files = [
            DeploymentRenderer.jsonFile("rabbitmq/definitions.json", templates.render("rabbitmq-definitions.json", definitions(settings))),
            DeploymentRenderer.hashFile("rabbitmq/entrypoint.sh", templates.render("rabbitmq-entrypoint.sh", EntrypointView(
                vhost: settings.vhost, user: settings.user, passwordSecret: settings.password.value,
                definitionsDirectory: Self.definitionsDirectory))),
            GeneratedFile(path: "\(DeploymentRenderer.outputDirectory)/rabbitmq/enabled_plugins",
                          contents: GeneratedFile.hashHeader(source: DeploymentRenderer.source) + "[rabbitmq_management,rabbitmq_prometheus].\n"),
        ]
        for environment in environments() {
            let memory = service.resources?.value(in: environment)?.memoryBytes
            let view = ConfigView(
                environment: environment, amqpPort: service.port(named: "amqp") ?? 5672,
                managementPort: service.port(named: "management") ?? 15672, metricsPort: service.port(named: "metrics") ?? 15692,
                definitionsDirectory: Self.definitionsDirectory,
                // 60 % of the container's memory: RabbitMQ would otherwise size itself from the host's.
                memoryWatermark: memory.map { "\($0 * 6 / 10 / (1 << 20))MiB" })
            files.append(DeploymentRenderer.hashFile("rabbitmq/rabbitmq.\(environment).conf", templates.render("rabbitmq.conf", view)))
        }
        return files
    }

    func wire(into wiring: inout ComposeWiring) {
        guard let settings = schema.deployment.rabbitmq else { return }
        let service = settings.service.value
        for environment in environments() {
            wiring.mount("rabbitmq/rabbitmq.\(environment).conf", at: "/etc/rabbitmq/rabbitmq.conf", service: service, environment: environment)
            wiring.mount("rabbitmq/enabled_plugins", at: "/etc/rabbitmq/enabled_plugins", service: service, environment: environment)
            wiring.mount("rabbitmq/definitions.json", at: "\(Self.definitionsDirectory)/10-topology.json", service: service, environment: environment)
            wiring.mount("rabbitmq/entrypoint.sh", at: Self.entrypoint, service: service, environment: environment)
            wiring.entrypoint(["sh", Self.entrypoint], service: service, environment: environment)
            wiring.command(["rabbitmq-server"], service: service, environment: environment)
        }
    }

    func definitions(_ settings: RabbitMQSettings) -> DefinitionsView {
        let exchanges = schema.exchanges.map { Exchange(name: $0.name, type: $0.kind.rawValue) }
        let queues = schema.queues.filter { !$0.perInstance }.map { queue -> Queue in
            var arguments: [Argument] = []
            if let exchange = queue.deadLetterExchange {
                arguments.append(.init(key: "x-dead-letter-exchange", json: TemplateValues.quoted(exchange.value)))
            }
            if let limit = queue.deliveryLimit, queue.kind == .quorum { arguments.append(.init(key: "x-delivery-limit", json: String(limit))) }
            if let expires = queue.expiresMilliseconds { arguments.append(.init(key: "x-expires", json: String(expires))) }
            if let length = queue.maxLength { arguments.append(.init(key: "x-max-length", json: String(length))) }
            arguments.append(.init(key: "x-queue-type", json: TemplateValues.quoted(queue.kind.rawValue)))
            arguments.sort { $0.key < $1.key }
            return Queue(name: queue.name, arguments: arguments, hasArguments: !arguments.isEmpty)
        }
        let bindings = schema.queues.filter { !$0.perInstance }.flatMap { queue in
            queue.bindings.map { Binding(source: $0.exchange.value, destination: queue.name, routingKey: $0.routingKey) }
        }
        return DefinitionsView(generated: GeneratedFile.jsonHeaderText(source: "schema/queues.yaml and schema/deployment.yaml"),
                               vhost: settings.vhost, exchanges: exchanges, queues: queues, bindings: bindings)
    }
}
