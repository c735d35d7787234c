/// `deploy/generated/prometheus/`: prometheus.yml with one scrape job per service that declares
/// `metrics:` (every instance a target), and alerts.yml with the seed's alerts at the thresholds of the
/// `monitoring:` section. The metric names are the contract with the services (docs/DEPLOYMENT.md).
struct PrometheusRenderer: DeploymentComponentRenderer {
    static let templateNames = ["prometheus.yml", "prometheus-alerts.yml"]

    let schema: Schema
    let templates: DeploymentTemplates

    struct Job { var name: String; var path: String; var targets: String }

    struct ConfigView {
        var environment: String
        var scrapeInterval: String
        var jobs: [Job]
    }

    struct AlertsView {
        var relayMinimum: Int
        var relayFor: String
        var lagWarning: Int
        var lagCritical: Int
        var lagFor: String
        var smsSilence: String
        /// The `NoDC09Frame` window, when the schema sets one.
        var dc09Silence: String?
        var panelFor: String
        var backendFor: String
        var backendJob: String
        var relayJob: String
        var loginPerMinute: Int
        var loginFor: String
        /// Queues with a `limit:` that something consumes (not the dead-letter sink): half full is a backlog.
        var backlogQueues: [BacklogQueue]
        /// Regex of the queues bound to a dead-letter exchange: anything in them is a message that failed.
        var deadLetterQueues: String
    }

    struct BacklogQueue { var name: String; var threshold: Int; var limit: Int }

    func environments() -> [String] {
        guard let service = schema.deployment.monitoring.flatMap({ schema.deployment.service(named: $0.prometheus.value) }) else { return [] }
        return schema.deployment.environments.map(\.name).filter { service.runs(in: $0) }
    }

    /// prometheus.yml per group of environments that run the same targets.
    func outputs() -> [EnvironmentFiles.Output] {
        guard let monitoring = schema.deployment.monitoring else { return [] }
        return EnvironmentFiles.group(environments(), path: { $0.map { "prometheus/prometheus.\($0).yml" } ?? "prometheus/prometheus.yml" }) { environment, label in
            templates.render("prometheus.yml", ConfigView(
                environment: label, scrapeInterval: TemplateValues.duration(monitoring.scrapeIntervalSeconds), jobs: jobs(in: environment)))
        }
    }

    func render() -> [GeneratedFile] {
        guard let monitoring = schema.deployment.monitoring, !environments().isEmpty else { return [] }
        var files = outputs().map { DeploymentRenderer.hashFile($0.path, $0.contents) }
        let upstream = schema.deployment.proxy?.upstream.service.value ?? "backend"
        let relay = schema.deployment.services.first { $0.name.contains("relay") }?.name ?? "outbox-relay"
        files.append(DeploymentRenderer.hashFile("prometheus/alerts.yml", templates.render("prometheus-alerts.yml", AlertsView(
            relayMinimum: monitoring.relayMinimumActive, relayFor: TemplateValues.duration(monitoring.relayForSeconds),
            lagWarning: monitoring.replicationLagWarningSeconds, lagCritical: monitoring.replicationLagCriticalSeconds,
            lagFor: TemplateValues.duration(monitoring.replicationLagForSeconds),
            smsSilence: TemplateValues.duration(monitoring.smsSilenceSeconds),
            dc09Silence: monitoring.dc09SilenceSeconds.map(TemplateValues.duration),
            panelFor: TemplateValues.duration(monitoring.panelDisconnectedSeconds),
            backendFor: TemplateValues.duration(monitoring.backendNotReadySeconds), backendJob: upstream, relayJob: relay,
            loginPerMinute: monitoring.loginRefusalsPerMinute, loginFor: TemplateValues.duration(monitoring.loginRefusalsForSeconds),
            backlogQueues: backlogQueues(), deadLetterQueues: deadLetterQueues().joined(separator: "|")))))
        return files
    }

    func deadLetterQueues() -> [String] {
        let sinks = Set(schema.queues.compactMap { $0.deadLetterExchange?.value })
        return schema.queues.filter { queue in queue.bindings.contains { sinks.contains($0.exchange.value) } }.map(\.name)
    }

    func backlogQueues() -> [BacklogQueue] {
        let sinks = Set(deadLetterQueues())
        return schema.queues.compactMap { queue in
            guard let limit = queue.limit?.messages.value, !sinks.contains(queue.name), !queue.perInstance else { return nil }
            return BacklogQueue(name: queue.name, threshold: limit / 2, limit: limit)
        }
    }

    func wire(into wiring: inout ComposeWiring) {
        guard let monitoring = schema.deployment.monitoring else { return }
        for output in outputs() {
            for environment in output.environments {
                wiring.mount(output.path, at: "/etc/prometheus/prometheus.yml", service: monitoring.prometheus.value, environment: environment)
            }
        }
        for environment in environments() {
            wiring.mount("prometheus/alerts.yml", at: "/etc/prometheus/alerts.yml", service: monitoring.prometheus.value, environment: environment)
        }
    }

    func jobs(in environment: String) -> [Job] {
        schema.deployment.services.compactMap { service in
            guard let metrics = service.metrics, service.runs(in: environment), let port = service.port(named: metrics.port.value) else { return nil }
            let targets = service.instanceNames(in: environment).map { "\($0):\(port)" }
            return Job(name: service.name, path: metrics.path, targets: TemplateValues.flowList(targets))
        }
    }
}
