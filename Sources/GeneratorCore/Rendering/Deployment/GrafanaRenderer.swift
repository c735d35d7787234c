/// `deploy/generated/grafana/`: the Prometheus data source, the dashboard provider, and one dashboard
/// with the main figures (relays, replication lag, panels, SMS, backends, queues, Redis, PgBouncer target).
struct GrafanaRenderer: DeploymentComponentRenderer {
    static let templateNames = ["grafana-datasource.yml", "grafana-dashboards.yml", "grafana-dashboard.json"]

    let schema: Schema
    let templates: DeploymentTemplates

    struct Panel {
        var id: Int
        var title: String
        var description: String
        var expression: String
        var legend: String
        var unit: String
        var x: Int
        var y: Int
    }

    struct DashboardView {
        var generated: String
        var panels: [Panel]
        var lagWarning: Int
        var lagCritical: Int
    }

    struct ProvisioningView { var prometheusURL: String }

    func environments() -> [String] {
        guard let name = schema.deployment.monitoring?.grafana?.value, let service = schema.deployment.service(named: name) else { return [] }
        return schema.deployment.environments.map(\.name).filter { service.runs(in: $0) }
    }

    func render() -> [GeneratedFile] {
        guard let monitoring = schema.deployment.monitoring, !environments().isEmpty,
              let prometheus = schema.deployment.service(named: monitoring.prometheus.value),
              let port = prometheus.metrics.flatMap({ prometheus.port(named: $0.port.value) }) ?? prometheus.ports.first?.number else { return [] }
        let provisioning = ProvisioningView(prometheusURL: "http://\(prometheus.name):\(port)")
        return [
            DeploymentRenderer.hashFile("grafana/provisioning/datasources/prometheus.yml", templates.render("grafana-datasource.yml", provisioning)),
            DeploymentRenderer.hashFile("grafana/provisioning/dashboards/stam.yml", templates.render("grafana-dashboards.yml", provisioning)),
            DeploymentRenderer.jsonFile("grafana/dashboards/stam.json", templates.render("grafana-dashboard.json", dashboard(monitoring))),
        ]
    }

    func wire(into wiring: inout ComposeWiring) {
        guard let grafana = schema.deployment.monitoring?.grafana?.value else { return }
        for environment in environments() {
            wiring.mount("grafana/provisioning/datasources/prometheus.yml", at: "/etc/grafana/provisioning/datasources/prometheus.yml",
                         service: grafana, environment: environment)
            wiring.mount("grafana/provisioning/dashboards/stam.yml", at: "/etc/grafana/provisioning/dashboards/stam.yml",
                         service: grafana, environment: environment)
            wiring.mount("grafana/dashboards/stam.json", at: "/var/lib/grafana/dashboards/stam.json", service: grafana, environment: environment)
        }
    }

    func dashboard(_ monitoring: MonitoringSettings) -> DashboardView {
        let figures: [(String, String, String, String, String)] = [
            ("Outbox relays active", "Relays holding outbox work; alert below \(monitoring.relayMinimumActive).",
             "max(outbox_relay_active_instances) or vector(0)", "active", "short"),
            ("Replication lag", "Seconds the replica is behind; warning above \(monitoring.replicationLagWarningSeconds) s, critical above \(monitoring.replicationLagCriticalSeconds) s.",
             "max(pg_replication_lag_seconds)", "lag", "s"),
            ("Panels connected", "ETHM-1 modules with a live connection, per panel.", "stam_panel_connected", "{{panel_id}}", "short"),
            ("SMS received per hour", "SMS from the GSM modem; alert when none for \(TemplateValues.duration(monitoring.smsSilenceSeconds)).",
             "sum(increase(sms_received_total[1h]))", "sms", "short"),
            ("Backends ready", "Backends that answer their scrape and report ready.", "up{job=\"backend\"}", "{{instance}}", "short"),
            ("HTTP requests", "Requests per second through the backends, by status.",
             "sum by (status) (rate(http_requests_total[5m]))", "{{status}}", "reqps"),
            ("RabbitMQ messages ready", "Messages waiting per queue.", "sum by (queue) (rabbitmq_queue_messages_ready)", "{{queue}}", "short"),
            ("Redis memory", "Memory used against maxmemory.", "redis_memory_used_bytes", "used", "bytes"),
            ("PostgreSQL primary", "1 on the node Patroni runs as primary.", "patroni_primary", "{{job}}", "short"),
            ("etcd leader", "1 while etcd has a leader (Patroni needs it to keep the primary).", "etcd_server_has_leader", "leader", "short"),
        ]
        let panels = figures.enumerated().map { index, figure in
            Panel(id: index + 1, title: figure.0, description: figure.1, expression: figure.2, legend: figure.3, unit: figure.4,
                  x: (index % 2) * 12, y: (index / 2) * 8)
        }
        return DashboardView(generated: GeneratedFile.jsonHeaderText(source: DeploymentRenderer.source), panels: panels,
                             lagWarning: monitoring.replicationLagWarningSeconds, lagCritical: monitoring.replicationLagCriticalSeconds)
    }
}
