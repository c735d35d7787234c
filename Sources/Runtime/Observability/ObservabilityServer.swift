import Foundation
import Hummingbird
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle

/// The small HTTP server every stam process runs beside its real work (relay, worker, sms-agent, backend):
/// - `GET /metrics`: the Prometheus text format of `registry`, scraped by the generated prometheus.yml;
/// - `GET /healthz`: 200 while the process runs (a liveness probe: restart me only if this fails);
/// - `GET /readyz`: 200 when every readiness check passes, else 503 and a JSON body naming the failing
///   dependencies (`{"ready":false,"failing":["postgresql"],"errors":{"postgresql":"..."}}`); the deployment's
///   health checks point here, so a process that lost a dependency is reported, not silently idle.
///
/// A `Service`: run it in the process's `ServiceGroup`; it stops listening on graceful shutdown.
public struct ObservabilityServer: Service {
    public struct Configuration: Sendable {
        /// The addresses to listen on, one listener each: all interfaces by default (Prometheus scrapes from another
        /// container); the worker names every address but the panel VLAN's.
        public var hosts: [String]
        /// 0 asks the kernel for a free port (with one host; `boundPort` tells which).
        public var port: Int

        public init(host: String = "0.0.0.0", port: Int) {
            self.init(hosts: [host], port: port)
        }

        public init(hosts: [String], port: Int) {
            self.hosts = hosts
            self.port = port
        }
    }

    let configuration: Configuration
    let registry: PrometheusCollectorRegistry
    let checks: [ReadinessCheck]
    /// Runs before each scrape: figures read from elsewhere (a hub's clients, a cache's counts) set then.
    let beforeScrape: @Sendable () -> Void
    let logger: Logger
    /// The port the server listens on, once it does.
    public let boundPort = BoundPort()

    public init(configuration: Configuration, registry: PrometheusCollectorRegistry, readinessChecks: [ReadinessCheck] = [],
                beforeScrape: @escaping @Sendable () -> Void = {}, logger: Logger) {
        self.configuration = configuration
        self.registry = registry
        self.checks = readinessChecks
        self.beforeScrape = beforeScrape
        self.logger = logger
    }

    public func run() async throws {
        let (boundPort, router, port, logger) = (self.boundPort, self.router(), configuration.port, self.logger)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for host in configuration.hosts {
                    let application = Application(
                        router: router, configuration: .init(address: .hostname(host, port: port), serverName: nil),
                        onServerRunning: { channel in boundPort.resolve(.success(channel.localAddress?.port ?? -1)) },
                        logger: logger)
                    group.addTask { try await application.run() }
                }
                try await group.waitForAll()
            }
        } catch {
            boundPort.resolve(.failure(error))
            throw error
        }
        boundPort.resolve(.failure(CancellationError()))
    }

    func router() -> Router<BasicRequestContext> {
        let (registry, checks, beforeScrape) = (self.registry, self.checks, self.beforeScrape)
        // Probes and scrapes share one evaluation a second: a probe may open a connection of its own (relay, SMS
        // consumer), and a flood of requests must not become a flood of connections (issue 18).
        let shared = SharedReadiness { await Self.readiness(of: checks) }
        let router = Router()
        router.get("/metrics") { _, _ in
            beforeScrape()
            return await Self.metricsResponse(registry: registry, readiness: await shared.report())
        }
        router.get("/healthz") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: "ok\n")))
        }
        router.get("/readyz") { _, _ in
            let report = await shared.report()
            return Response(status: report.ready ? .ok : .serviceUnavailable, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(bytes: try JSONEncoder.sorted.encode(report))))
        }
        return router
    }

    /// The `/metrics` answer of every stam process: the registry in Prometheus text format, with
    /// `stam_ready` (1 or 0) set from the readiness checks at scrape time, so the "not ready" alert sees a
    /// process that is up but lost a dependency without Prometheus having to probe `/readyz` itself.
    public static func metricsResponse(registry: PrometheusCollectorRegistry, readiness checks: [ReadinessCheck]) async -> Response {
        await metricsResponse(registry: registry, readiness: await readiness(of: checks))
    }

    static func metricsResponse(registry: PrometheusCollectorRegistry, readiness report: Readiness) async -> Response {
        registry.makeGauge(name: "stam_ready", help: "1 when every readiness check of this process passes, else 0.")
            .set(to: report.ready ? 1.0 : 0.0)
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
    }

    /// What `/readyz` answers: every check run concurrently, each bounded by its own timeout.
    public struct Readiness: Codable, Sendable, Equatable {
        public var ready: Bool
        /// Names of the failing checks, sorted.
        public var failing: [String]
        /// Why each failing check failed.
        public var errors: [String: String]

        public init(ready: Bool, failing: [String], errors: [String: String]) {
            self.ready = ready
            self.failing = failing
            self.errors = errors
        }
    }

    public static func readiness(of checks: [ReadinessCheck]) async -> Readiness {
        let failures = await withTaskGroup(of: (String, String?).self) { group in
            for check in checks {
                group.addTask { (check.name, await check.evaluate()) }
            }
            var failures: [String: String] = [:]
            for await (name, failure) in group { if let failure { failures[name] = failure } }
            return failures
        }
        return Readiness(ready: failures.isEmpty, failing: failures.keys.sorted(), errors: failures)
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}
