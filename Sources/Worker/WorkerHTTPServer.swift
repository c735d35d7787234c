import Hummingbird
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle

/// `/healthz` (the process is alive), `/readyz` (PostgreSQL, Redis and RabbitMQ answer), `/metrics`
/// (Prometheus text). A minimal Hummingbird application until the shared `ObservabilityServer` lands.
public final class WorkerHTTPServer: Service, Sendable {
    /// One listener per address (the worker listens on chosen interfaces only: not on the panel VLAN).
    private let hosts: [String]
    private let port: Int
    private let endpoints: any HealthEndpoints
    private let logger: Logger
    private let bound = NIOLockedValueBox<Int?>(nil)

    public convenience init(host: String, port: Int, endpoints: any HealthEndpoints, logger: Logger) {
        self.init(hosts: [host], port: port, endpoints: endpoints, logger: logger)
    }

    public init(hosts: [String], port: Int, endpoints: any HealthEndpoints, logger: Logger) {
        self.hosts = hosts
        self.port = port
        self.endpoints = endpoints
        self.logger = logger
    }

    /// The port actually bound (useful with port 0), once the server runs.
    public var boundPort: Int? { bound.withLockedValue { $0 } }

    public func run() async throws {
        let router = Router()
        let endpoints = self.endpoints
        router.get("healthz") { _, _ in "ok\n" }
        router.get("readyz") { _, _ -> Response in
            let failing = await endpoints.failingDependencies()
            let body = failing.isEmpty ? "ready\n" : "not ready: \(failing.joined(separator: ", "))\n"
            return Response(status: failing.isEmpty ? .ok : .serviceUnavailable,
                            headers: [.contentType: "text/plain; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
        }
        router.get("metrics") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: endpoints.metricsText())))
        }
        let bound = self.bound
        let (port, logger) = (self.port, self.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for host in hosts {
                let application = Application(
                    router: router, configuration: .init(address: .hostname(host, port: port), serverName: "stam-worker"),
                    onServerRunning: { channel in bound.withLockedValue { $0 = channel.localAddress?.port } },
                    logger: logger)
                group.addTask { try await application.run() }
            }
            try await group.waitForAll()
        }
    }
}
