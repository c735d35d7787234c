import Foundation
import GeneratorCore
import DevStack
import Testing
import TestSupport

/// prometheus.yml and alerts.yml, checked by promtool, and the alerts' behaviour proven with
/// `promtool test rules` on series that should and should not fire them (thresholds from the schema).
@Suite(.integration, .tags(.integration)) struct PrometheusToolTests {
    func workspace() throws -> String {
        let directory = try DeploymentTools.temporaryDirectory("prometheus")
        for file in ["prometheus.yml", "alerts.yml"] {
            try DeploymentTools.read("prometheus/\(file)").write(toFile: "\(directory)/\(file)", atomically: true, encoding: .utf8)
        }
        return directory
    }

    @Test func promtoolAcceptsTheConfigurationAndTheRules() throws {
        let promtool = try DeploymentTools.tool("/usr/bin/promtool")
        let directory = try workspace()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = try DeploymentTools.status(promtool, ["check", "config", "\(directory)/prometheus.yml"])
        #expect(config.0 == 0, "\(config.1)")
        #expect(config.1.contains("1 rule files found"))
        let rules = try DeploymentTools.status(promtool, ["check", "rules", "\(directory)/alerts.yml"])
        #expect(rules.0 == 0, "\(rules.1)")
    }

    @Test func everyServiceWithMetricsIsScraped() throws {
        let schema = try StamGenerator(root: DeploymentTools.root).loadSchema().schema
        let config = try DeploymentTools.read("prometheus/prometheus.yml")
        for service in schema.deployment.services where service.metrics != nil && service.runs(in: "prod") {
            #expect(config.contains("job_name: \(service.name)\n"), "\(service.name)")
            for instance in service.instanceNames(in: "prod") { #expect(config.contains("\"\(instance):"), "\(instance)") }
        }
    }

    @Test func alertsFireExactlyWhenTheSeedSaysTheyShould() throws {
        let promtool = try DeploymentTools.tool("/usr/bin/promtool")
        let monitoring = try #require(try StamGenerator(root: DeploymentTools.root).loadSchema().schema.deployment.monitoring)
        let directory = try workspace()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let warning = monitoring.replicationLagWarningSeconds
        let critical = monitoring.replicationLagCriticalSeconds
        let relayFor = monitoring.relayForSeconds
        let lagFor = monitoring.replicationLagForSeconds
        let tests = """
            rule_files: [alerts.yml]
            evaluation_interval: 15s
            tests:
              # Relays: one active is enough; none active (or none reporting) fires after \(relayFor) s.
              - interval: 15s
                input_series:
                  - series: 'outbox_relay_active_instances{job="outbox-relay", instance="outbox-relay-1:9100"}'
                    values: '1x8 0x20'
                  - series: 'outbox_relay_active_instances{job="outbox-relay", instance="outbox-relay-2:9100"}'
                    values: '0x28'
                alert_rule_test:
                  - eval_time: 90s
                    alertname: OutboxRelayInactive
                    exp_alerts: []
                  - eval_time: \(135 + relayFor + 15)s
                    alertname: OutboxRelayInactive
                    exp_alerts:
                      - exp_labels: { severity: critical }
                        exp_annotations:
                          summary: "Fewer than \(monitoring.relayMinimumActive) outbox relay active for \(TemplateValuesForTests.duration(relayFor)): events stop reaching RabbitMQ"
              - interval: 15s
                input_series: []
                alert_rule_test:
                  - eval_time: \(relayFor + 30)s
                    alertname: OutboxRelayInactive
                    exp_alerts:
                      - exp_labels: { severity: critical }
                        exp_annotations:
                          summary: "Fewer than \(monitoring.relayMinimumActive) outbox relay active for \(TemplateValuesForTests.duration(relayFor)): events stop reaching RabbitMQ"
              # Replication lag: below the warning nothing; above it a warning; above critical both.
              - interval: 15s
                input_series:
                  - series: 'pg_replication_lag_seconds{job="backend", instance="backend-1:9100"}'
                    values: '\(warning)x11 \(warning + 5)x11 \(critical + 5)x11'
                alert_rule_test:
                  - eval_time: 150s
                    alertname: ReplicationLagWarning
                    exp_alerts: []
                  - eval_time: \(180 + lagFor + 15)s
                    alertname: ReplicationLagWarning
                    exp_alerts:
                      - exp_labels: { severity: warning }
                        exp_annotations:
                          summary: "The PostgreSQL replica is \(warning + 5) s behind (above \(warning) s)"
                  - eval_time: \(180 + lagFor + 15)s
                    alertname: ReplicationLagCritical
                    exp_alerts: []
                  - eval_time: \(360 + lagFor + 15)s
                    alertname: ReplicationLagCritical
                    exp_alerts:
                      - exp_labels: { severity: critical }
                        exp_annotations:
                          summary: "The PostgreSQL replica is \(critical + 5) s behind (above \(critical) s): reports are stale, a failover would lose data"
              # SMS: a counter that grows keeps quiet; a flat one (or none) fires.
              - interval: 1m
                input_series:
                  - series: 'sms_received_total{job="sms-agent", instance="sms-agent:9102"}'
                    values: '0+1x100'
                alert_rule_test:
                  - eval_time: 90m
                    alertname: NoSmsReceived
                    exp_alerts: []
              - interval: 1m
                input_series:
                  - series: 'sms_received_total{job="sms-agent", instance="sms-agent:9102"}'
                    values: '5x100'
                alert_rule_test:
                  - eval_time: 90m
                    alertname: NoSmsReceived
                    exp_alerts:
                      - exp_labels: { severity: warning }
                        exp_annotations:
                          summary: "No SMS received for \(TemplateValuesForTests.duration(monitoring.smsSilenceSeconds)): check the GSM modem and the SMS agent"
              # DC-09: frames ACKed (link tests) keep it quiet; none over both receivers while they have accounts fires;
              # a station without DC-09 accounts never fires it.
              - interval: 1m
                input_series:
                  - series: 'stam_dc09_frames_total{job="dc09-receiver", instance="dc09-receiver-1:9104", answer="ack"}'
                    values: '0+2x60'
                  - series: 'stam_dc09_frames_total{job="dc09-receiver", instance="dc09-receiver-2:9104", answer="ack"}'
                    values: '0x60'
                  - series: 'stam_dc09_accounts{job="dc09-receiver", instance="dc09-receiver-1:9104"}'
                    values: '10x60'
                alert_rule_test:
                  - eval_time: 50m
                    alertname: NoDC09Frame
                    exp_alerts: []
              - interval: 1m
                input_series:
                  - series: 'stam_dc09_frames_total{job="dc09-receiver", instance="dc09-receiver-1:9104", answer="ack"}'
                    values: '0+2x10 20x50'
                  - series: 'stam_dc09_frames_total{job="dc09-receiver", instance="dc09-receiver-1:9104", answer="nak"}'
                    values: '0+1x60'
                  - series: 'stam_dc09_accounts{job="dc09-receiver", instance="dc09-receiver-1:9104"}'
                    values: '10x60'
                  - series: 'stam_dc09_accounts{job="dc09-receiver", instance="dc09-receiver-2:9104"}'
                    values: '10x60'
                alert_rule_test:
                  - eval_time: 20m
                    alertname: NoDC09Frame
                    exp_alerts: []
                  - eval_time: 40m
                    alertname: NoDC09Frame
                    exp_alerts:
                      - exp_labels: { severity: critical }
                        exp_annotations:
                          summary: "No DC-09 frame acknowledged for \(TemplateValuesForTests.duration(monitoring.dc09SilenceSeconds ?? 0)): check the receivers, their published ports and the path from the communicators"
              - interval: 1m
                input_series:
                  - series: 'stam_dc09_frames_total{job="dc09-receiver", instance="dc09-receiver-1:9104", answer="ack"}'
                    values: '0x60'
                  - series: 'stam_dc09_accounts{job="dc09-receiver", instance="dc09-receiver-1:9104"}'
                    values: '0x60'
                alert_rule_test:
                  - eval_time: 50m
                    alertname: NoDC09Frame
                    exp_alerts: []
              # A panel that stays disconnected, and a backend that cannot be scraped.
              - interval: 15s
                input_series:
                  - series: 'stam_panel_connected{job="satel-worker", instance="satel-worker:9101", panel_id="p1"}'
                    values: '1x4 0x40'
                  - series: 'stam_panel_connected{job="satel-worker", instance="satel-worker:9101", panel_id="p2"}'
                    values: '1x44'
                  - series: 'up{job="backend", instance="backend-2:9100"}'
                    values: '1x4 0x40'
                alert_rule_test:
                  - eval_time: \(60 + monitoring.panelDisconnectedSeconds + 30)s
                    alertname: PanelDisconnected
                    exp_alerts:
                      - exp_labels: { severity: critical, job: satel-worker, instance: "satel-worker:9101", panel_id: p1 }
                        exp_annotations:
                          summary: "Panel p1 has been disconnected for \(TemplateValuesForTests.duration(monitoring.panelDisconnectedSeconds))"
                  - eval_time: \(60 + monitoring.backendNotReadySeconds + 30)s
                    alertname: BackendNotReady
                    exp_alerts:
                      - exp_labels: { severity: critical, job: backend, instance: "backend-2:9100" }
                        exp_annotations:
                          summary: "Backend backend-2:9100 not ready for \(TemplateValuesForTests.duration(monitoring.backendNotReadySeconds))"
              # Issue 18 point 1: three panels, two owned by the only worker left: one has nobody watching it.
              - interval: 15s
                input_series:
                  - series: 'stam_worker_fleet_panels{job="satel-worker", instance="satel-worker:9101"}'
                    values: '3x44'
                  - series: 'stam_worker_panels_owned{job="satel-worker", instance="satel-worker:9101"}'
                    values: '3x4 2x40'
                alert_rule_test:
                  - eval_time: \(60 + monitoring.panelDisconnectedSeconds + 30)s
                    alertname: PanelsUnwatched
                    exp_alerts:
                      - exp_labels: { severity: critical }
                        exp_annotations:
                          summary: "1 enabled panels have had no worker for \(TemplateValuesForTests.duration(monitoring.panelDisconnectedSeconds))"
              - interval: 15s
                input_series:
                  - series: 'stam_worker_fleet_panels{job="satel-worker", instance="satel-worker-1:9101"}'
                    values: '3x44'
                  - series: 'stam_worker_fleet_panels{job="satel-worker", instance="satel-worker-2:9101"}'
                    values: '3x44'
                  - series: 'stam_worker_panels_owned{job="satel-worker", instance="satel-worker-1:9101"}'
                    values: '2x44'
                  - series: 'stam_worker_panels_owned{job="satel-worker", instance="satel-worker-2:9101"}'
                    values: '1x44'
                alert_rule_test:
                  - eval_time: \(60 + monitoring.panelDisconnectedSeconds + 30)s
                    alertname: PanelsUnwatched
                    exp_alerts: []
              # Issue 18 point 9: Redis (noeviction) above 80 % of maxmemory for 5 minutes.
              - interval: 1m
                input_series:
                  - series: 'redis_memory_used_bytes{job="redis", instance="redis-exporter:9121"}'
                    values: '900x10'
                  - series: 'redis_memory_max_bytes{job="redis", instance="redis-exporter:9121"}'
                    values: '1000x10'
                alert_rule_test:
                  - eval_time: 7m
                    alertname: RedisMemoryHigh
                    exp_alerts:
                      - exp_labels: { severity: critical }
                        exp_annotations:
                          summary: "Redis uses 90% of its maxmemory: at 100 % lease renewals fail"
              # Issue 18 point 9: a work queue half full for 5 minutes, and any dead letter.
              - interval: 1m
                input_series:
                  - series: 'rabbitmq_queue_messages_ready{job="rabbitmq", instance="rabbitmq:15692", queue="worker.commands", vhost="stam"}'
                    values: '6000x10'
                  - series: 'rabbitmq_queue_messages_ready{job="rabbitmq", instance="rabbitmq:15692", queue="sms.inbox", vhost="stam"}'
                    values: '10x10'
                  - series: 'rabbitmq_queue_messages{job="rabbitmq", instance="rabbitmq:15692", queue="dead_letters", vhost="stam"}'
                    values: '0 0 2x8'
                alert_rule_test:
                  - eval_time: 7m
                    alertname: QueueBacklog
                    exp_alerts:
                      - exp_labels: { severity: critical, queue: worker.commands }
                        exp_annotations:
                          summary: "6000 messages wait in worker.commands (limit 10000): its consumers are down or stuck"
                  - eval_time: 7m
                    alertname: DeadLetters
                    exp_alerts:
                      - exp_labels: { severity: warning, queue: dead_letters }
                        exp_annotations:
                          summary: "2 dead-lettered messages in dead_letters: inspect and replay them"
              # Logins: refusals above the schema's rate over both backends fire; successes, and refusals below it, do not.
              - interval: 15s
                input_series:
                  - series: 'stam_login_attempts_total{job="backend", instance="backend-1:9100", outcome="refused"}'
                    values: '0+\(monitoring.loginRefusalsPerMinute / 4)x80'
                  - series: 'stam_login_attempts_total{job="backend", instance="backend-2:9100", outcome="throttled_account_address"}'
                    values: '0+\(monitoring.loginRefusalsPerMinute / 4)x80'
                  - series: 'stam_login_attempts_total{job="backend", instance="backend-2:9100", outcome="success"}'
                    values: '0+100x80'
                alert_rule_test:
                  - eval_time: \(300 + monitoring.loginRefusalsForSeconds + 30)s
                    alertname: LoginStorm
                    exp_alerts:
                      - exp_labels: { severity: warning }
                        exp_annotations:
                          summary: "More than \(monitoring.loginRefusalsPerMinute) refused logins a minute for \(TemplateValuesForTests.duration(monitoring.loginRefusalsForSeconds))"
              - interval: 15s
                input_series:
                  - series: 'stam_login_attempts_total{job="backend", instance="backend-1:9100", outcome="refused"}'
                    values: '0+\(monitoring.loginRefusalsPerMinute / 8)x80'
                  - series: 'stam_login_attempts_total{job="backend", instance="backend-2:9100", outcome="success"}'
                    values: '0+100x80'
                alert_rule_test:
                  - eval_time: \(300 + monitoring.loginRefusalsForSeconds + 30)s
                    alertname: LoginStorm
                    exp_alerts: []
            """
        try tests.write(toFile: "\(directory)/alerts_test.yml", atomically: true, encoding: .utf8)
        let result = try DeploymentTools.status(promtool, ["test", "rules", "\(directory)/alerts_test.yml"])
        #expect(result.0 == 0, "\(result.1)")
        #expect(result.1.contains("SUCCESS"))
    }
}

extension PrometheusToolTests {
    /// The Grafana dashboard is JSON Grafana can provision, and every panel's query is PromQL that
    /// Prometheus accepts (checked by promtool as recording rules).
    @Test func grafanaDashboardQueriesAreValidPromQL() throws {
        let promtool = try DeploymentTools.tool("/usr/bin/promtool")
        let dashboard = try #require(try JSONSerialization.jsonObject(with: Data(DeploymentTools.read("grafana/dashboards/stam.json").utf8)) as? [String: Any])
        #expect((dashboard["_generated"] as? String)?.hasPrefix("Generated by stamgen") == true)
        #expect(dashboard["uid"] as? String == "stam-main")
        let panels = try #require(dashboard["panels"] as? [[String: Any]])
        #expect(panels.count >= 8)
        #expect(Set(panels.compactMap { $0["id"] as? Int }).count == panels.count)
        let expressions = panels.compactMap { (($0["targets"] as? [[String: Any]])?.first?["expr"] as? String) }
        #expect(expressions.count == panels.count)
        for seedMetric in ["outbox_relay_active_instances", "pg_replication_lag_seconds", "sms_received_total", "stam_panel_connected"] {
            #expect(expressions.contains { $0.contains(seedMetric) }, "\(seedMetric)")
        }
        let directory = try DeploymentTools.temporaryDirectory("grafana")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let rules = "groups:\n  - name: dashboard\n    rules:\n" + expressions.enumerated().map { index, expression in
            "      - record: dashboard:panel\(index + 1)\n        expr: '\(expression.replacingOccurrences(of: "'", with: "''"))'\n"
        }.joined()
        try rules.write(toFile: "\(directory)/dashboard.yml", atomically: true, encoding: .utf8)
        let result = try DeploymentTools.status(promtool, ["check", "rules", "\(directory)/dashboard.yml"])
        #expect(result.0 == 0, "\(result.1)")
    }
}

/// Durations as the generated files write them (1h, 2m, 30s).
enum TemplateValuesForTests {
    static func duration(_ seconds: Int) -> String {
        if seconds > 0, seconds % 3600 == 0 { return "\(seconds / 3600)h" }
        if seconds > 0, seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }
}
