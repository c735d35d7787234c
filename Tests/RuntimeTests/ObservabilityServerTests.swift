import DevStack
import Foundation
import Logging
import Observability
import Prometheus
import Synchronization
import Testing
import TestSupport

/// `ObservabilityServer` over a real socket: /healthz, /readyz following its checks, /metrics.
@Suite struct ObservabilityServerTests {
    let logger = Logger(label: "test.observability")

    /// Runs `server` on an ephemeral port for the duration of `body`.
    func withServer(_ server: ObservabilityServer, _ body: (Int) async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let port = try await server.boundPort.value()
            #expect(port > 0)
            try await body(port)
            group.cancelAll()
        }
    }

    @Test func healthzAnswersWhileTheProcessRuns() async throws {
        let server = ObservabilityServer(configuration: .init(host: "127.0.0.1", port: 0), registry: PrometheusCollectorRegistry(),
                                         readinessChecks: [ReadinessCheck("never") { struct Down: Error {}; throw Down() }], logger: logger)
        try await withServer(server) { port in
            // Liveness does not depend on readiness: a process with a dead dependency is alive, not ready.
            let health = try await HTTPGet.get(port: port, path: "/healthz")
            #expect(health.status == 200)
            #expect(health.body == "ok\n")
            #expect(try await HTTPGet.get(port: port, path: "/nothing").status == 404)
        }
    }

    @Test func readyzIs503NamingTheFailingDependencyAnd200WhenItRecovers() async throws {
        let databaseUp = Mutex(false)
        struct Refused: Error, CustomStringConvertible { var description: String { "connection refused" } }
        let server = ObservabilityServer(
            configuration: .init(host: "127.0.0.1", port: 0), registry: PrometheusCollectorRegistry(),
            readinessChecks: [
                ReadinessCheck("postgresql") { if !databaseUp.withLock({ $0 }) { throw Refused() } },
                ReadinessCheck("rabbitmq") {},
            ],
            logger: logger)
        try await withServer(server) { port in
            let down = try await HTTPGet.get(port: port, path: "/readyz")
            #expect(down.status == 503)
            #expect(down.headers["content-type"] == "application/json")
            let report = try JSONDecoder().decode(ObservabilityServer.Readiness.self, from: Data(down.body.utf8))
            #expect(report == ObservabilityServer.Readiness(ready: false, failing: ["postgresql"], errors: ["postgresql": "connection refused"]))
            #expect(try await HTTPGet.get(port: port, path: "/metrics").body.contains("\nstam_ready 0"))

            databaseUp.withLock { $0 = true }
            // Probes share an evaluation for a second (`SharedReadiness`): the recovery shows within that.
            var up = try await HTTPGet.get(port: port, path: "/readyz")
            let deadline = ContinuousClock.now + .seconds(5)
            while up.status != 200, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
                up = try await HTTPGet.get(port: port, path: "/readyz")
            }
            #expect(up.status == 200)
            #expect(try JSONDecoder().decode(ObservabilityServer.Readiness.self, from: Data(up.body.utf8))
                    == ObservabilityServer.Readiness(ready: true, failing: [], errors: [:]))
            #expect(try await HTTPGet.get(port: port, path: "/metrics").body.contains("\nstam_ready 1"))
        }
    }

    /// Issue 18 point 7: a burst of probes (a health checker, a scraper, anyone who can reach the port) runs the
    /// dependency checks once, not once per request: a check may open a connection of its own.
    @Test func aBurstOfProbesRunsTheChecksOnce() async throws {
        let runs = Mutex(0)
        let server = ObservabilityServer(
            configuration: .init(host: "127.0.0.1", port: 0), registry: PrometheusCollectorRegistry(),
            readinessChecks: [ReadinessCheck("postgresql") {
                runs.withLock { $0 += 1 }
                try await Task.sleep(for: .milliseconds(200))
            }],
            logger: logger)
        try await withServer(server) { port in
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<60 {
                    group.addTask { try await HTTPGet.get(port: port, path: index % 2 == 0 ? "/readyz" : "/metrics").status }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.count == 60 && statuses.allSatisfy { $0 == 200 })
            #expect(runs.withLock { $0 } <= 2, "the checks ran \(runs.withLock { $0 }) times for 60 requests")
        }
    }

    @Test func aCheckThatDoesNotAnswerInTimeFailsReadiness() async throws {
        // The probe ignores cancellation (like a blocking client would): the answer must not wait for it.
        let release = Mutex(false)
        let server = ObservabilityServer(
            configuration: .init(host: "127.0.0.1", port: 0), registry: PrometheusCollectorRegistry(),
            readinessChecks: [
                ReadinessCheck("rabbitmq", timeout: .milliseconds(200)) {
                    while !release.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(20)) }
                },
            ],
            logger: logger)
        try await withServer(server) { port in
            let response = try await HTTPGet.get(port: port, path: "/readyz")
            release.withLock { $0 = true }
            #expect(response.status == 503)
            let report = try JSONDecoder().decode(ObservabilityServer.Readiness.self, from: Data(response.body.utf8))
            #expect(report.failing == ["rabbitmq"])
            #expect(report.errors["rabbitmq"]?.contains("no answer within") == true)
        }
    }

    @Test func metricsServesTheRegistryInPrometheusTextFormat() async throws {
        let registry = PrometheusCollectorRegistry()
        registry.makeCounter(name: "test_events_total", help: "Events.").increment(by: Int64(42))
        registry.makeGauge(name: "test_depth", labels: [("queue", "a")], help: "Depth.").set(to: 7.0)
        let server = ObservabilityServer(configuration: .init(host: "127.0.0.1", port: 0), registry: registry, logger: logger)
        try await withServer(server) { port in
            let response = try await HTTPGet.get(port: port, path: "/metrics")
            #expect(response.status == 200)
            #expect(response.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
            #expect(response.body.contains("# TYPE test_events_total counter\ntest_events_total 42\n"))
            #expect(response.body.contains("test_depth{queue=\"a\"} 7"))
            // With no checks the process is ready.
            #expect(try await HTTPGet.get(port: port, path: "/readyz").status == 200)
        }
    }

    @Test func aPortInUseFailsTheServerAndItsBoundPort() async throws {
        let first = ObservabilityServer(configuration: .init(host: "127.0.0.1", port: 0), registry: PrometheusCollectorRegistry(), logger: logger)
        try await withServer(first) { port in
            let second = ObservabilityServer(configuration: .init(host: "127.0.0.1", port: port), registry: PrometheusCollectorRegistry(), logger: logger)
            await #expect(throws: (any Error).self) { try await second.run() }
            await #expect(throws: (any Error).self) { _ = try await second.boundPort.value() }
        }
    }
}
