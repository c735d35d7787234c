import APISupport
import Foundation
import Generated
import GeneratedAPI
import Hummingbird
import Logging
import Observability
import Outbox
import Persistence

/// Builds the operator API's router: request ids on everything; the public routes (login, health, the
/// OpenAPI document, the web console's files); then every generated route behind `AuthenticationMiddleware`,
/// which also checks the token's session (`SessionVerifier` over `OperatorSessionStore`).
public struct BackendRouter: Sendable {
    public let repositories: Repositories
    public let tokens: TokenService
    public let login: LoginController
    /// What `/readyz` asks (PostgreSQL, Redis, RabbitMQ); the same checks the other processes serve through
    /// `ObservabilityServer`. nginx takes a backend out of the pool on 5xx (docs/DEPLOYMENT.md), so this is
    /// what drains a backend that lost its database.
    public let readiness: [ReadinessCheck]
    public let reports: ReportsController?
    public let metrics: BackendMetrics
    /// Wakes the relays after an action committed its event (the process runs it as a service).
    public let outbox: OutboxNotifier
    /// The lists the schema caches (`list_cache:`); nil: every list reads the database.
    public let listCache: ListCache?
    /// Whose `X-Real-IP` is believed (nginx); nobody's by default.
    public let proxies: TrustedProxies
    /// Session checks of this backend; `LiveSocket` needs the same one.
    public let sessions: SessionVerifier

    public init(repositories: Repositories, tokens: TokenService, outbox: OutboxNotifier, throttle: LoginThrottle = LoginThrottle(),
                readiness: [ReadinessCheck], reports: ReportsController? = nil, metrics: BackendMetrics = BackendMetrics(),
                listCache: ListCache? = nil, proxies: TrustedProxies? = nil, sessions: SessionVerifier? = nil) {
        self.outbox = outbox
        self.listCache = listCache
        self.reports = reports
        self.metrics = metrics
        self.repositories = repositories
        self.tokens = tokens
        self.readiness = readiness
        self.proxies = proxies ?? TrustedProxies(entries: [], logger: repositories.context.logger)
        let sessions = sessions ?? SessionVerifier(store: OperatorSessionStore(context: repositories.context))
        self.sessions = sessions
        login = LoginController(repositories: repositories, tokens: tokens, throttle: throttle, sessions: sessions, metrics: metrics)
    }

    /// `/metrics`, `/healthz` and `/readyz` on a port of their own, which only Prometheus's network reaches:
    /// the API's port is the one nginx forwards to, and the figures (routes, logins refused, clients) are not
    /// the operators' business. The API keeps `/healthz` and `/readyz` for nginx and the engine's checks.
    public func observability(host: String, port: Int, logger: Logger) -> ObservabilityServer {
        let metrics = self.metrics
        return ObservabilityServer(configuration: .init(host: host, port: port), registry: metrics.registry,
                                   readinessChecks: readiness, beforeScrape: { metrics.refreshLiveFigures() }, logger: logger)
    }

    public func build() -> Router<StamRequestContext> {
        let router = Router(context: StamRequestContext.self)
        router.add(middleware: HTTPMetricsMiddleware(metrics: metrics))
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: ClientAddressMiddleware(proxies: proxies))
        router.add(middleware: MethodNotAllowedMiddleware(openAPIDocument: OpenAPIDocument.json,
                                                          extra: ["/openapi.json": ["GET"], "/ws": ["GET"]]))
        router.get("/healthz") { _, _ in Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ok\n"))) }
        router.get("/readyz") { _, _ in
            let state = await ObservabilityServer.readiness(of: readiness)
            struct Body: Encodable { var ready: Bool; var failing: [String] }
            return try APIResponse.json(Body(ready: state.ready, failing: state.failing), status: state.ready ? .ok : .serviceUnavailable)
        }
        router.get("/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"],
                     body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        }
        ConsoleAssets.register(on: router)
        router.post("/api/auth/login") { request, context in try await login.login(request, context: context) }
        let api = router.group("api").add(middleware: AuthenticationMiddleware(tokens: tokens, sessions: sessions))
        // Behind authentication, so a refused request cannot empty the cache; added before the group's routes,
        // which is what Hummingbird applies middleware to. Every write of the API (CRUD, actions) is in this group;
        // login's last_login_at touches only operators, which are not cached.
        if let listCache { api.add(middleware: ListCacheInvalidationMiddleware(cache: listCache)) }
        api.add(middleware: OperatorSafetyMiddleware(context: repositories.context))
        api.post("auth/logout") { request, context in try await login.logout(request, context: context) }
        APIRoutes.register(on: api, repositories: repositories, actions: APIActionHandlers(
            sites: SiteActionHandler(testMode: TestModeHandler(repositories: repositories)),
            panels: PanelActionHandler(repositories: repositories, outbox: outbox),
            alarms: AlarmActionHandler(repositories: repositories, outbox: outbox),
            contacts: ContactActionHandler(repositories: repositories),
            operators: OperatorActionHandler(repositories: repositories),
            operatorSessions: OperatorSessionActionHandler(revocation: OperatorSessionRevocation(repositories: repositories, sessions: sessions))),
            audit: AuditTrail(repositories: repositories), listCache: listCache)
        reports?.register(on: api)
        return router
    }
}
