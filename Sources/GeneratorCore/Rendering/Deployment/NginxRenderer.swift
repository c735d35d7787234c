/// `deploy/generated/nginx/nginx.conf` from the `proxy:` section: TLS on 443 (Mozilla intermediate), the
/// upstream over every instance of the upstream service with `ip_hash`, `/ws` upgrades, the login rate
/// limit, extra routes, and a plain-HTTP status listener for /healthz and stub_status.
///
/// Open-source nginx only has passive health checks: a server leaves the pool for `fail_timeout` after
/// `max_fails` failed attempts (errors, timeouts, 502/503/504). The backend answers 503 on every route while
/// its /readyz would fail, so a backend that is not ready stops getting traffic after `max_fails` requests.
struct NginxRenderer: DeploymentComponentRenderer {
    static let templateNames = ["nginx.conf"]
    static let configPath = "/etc/nginx/nginx.conf"
    /// The largest request body (media uploads); the Ingress allows the same.
    static let maxBodySize = "20m"
    static let connectTimeoutSeconds = 5

    let schema: Schema
    let templates: DeploymentTemplates

    struct View {
        struct Server { var address: String }
        struct Route { var path: String; var upstream: String; var address: String }

        var upstream: String
        var servers: [Server]
        var maxFails: Int
        var failTimeout: String
        var serverName: String
        var httpsPort: Int
        var certificate: String
        var key: String
        var statusPort: Int
        var readinessPath: String
        var websocketPath: String
        var websocketTimeout: String
        var limit: Limit?
        var routes: [Route]
        var environment: String
        var maxBodySize = NginxRenderer.maxBodySize
        var connectTimeout = "\(NginxRenderer.connectTimeoutSeconds)s"

        struct Limit { var paths: [String]; var rate: String; var burst: Int }
    }

    /// nginx's file per group of environments that run it alike (a stage with its own server name has its own).
    func outputs() -> [EnvironmentFiles.Output] {
        guard let proxy = schema.deployment.proxy, let service = schema.deployment.service(named: proxy.service.value) else { return [] }
        let environments = schema.deployment.environments.map(\.name).filter { service.runs(in: $0) }
        return EnvironmentFiles.group(environments, path: { $0.map { "nginx/nginx.\($0).conf" } ?? "nginx/nginx.conf" }) { environment, label in
            view(in: environment, label: label).map { templates.render("nginx.conf", $0) }
        }
    }

    func render() -> [GeneratedFile] {
        outputs().map { DeploymentRenderer.hashFile($0.path, $0.contents) }
    }

    func wire(into wiring: inout ComposeWiring) {
        guard let proxy = schema.deployment.proxy else { return }
        for output in outputs() {
            for environment in output.environments {
                wiring.mount(output.path, at: Self.configPath, service: proxy.service.value, environment: environment)
            }
        }
    }

    func view(in environment: String, label: String) -> View? {
        let deployment = schema.deployment
        guard let proxy = deployment.proxy, let service = deployment.service(named: proxy.service.value),
              let upstream = deployment.service(named: proxy.upstream.service.value),
              let upstreamPort = deployment.port(proxy.upstream) else { return nil }
        let servers = upstream.instanceNames(in: environment).map { View.Server(address: "\($0):\(upstreamPort)") }
        let routes = proxy.routes.compactMap { route -> View.Route? in
            guard let target = deployment.service(named: route.target.service.value), target.runs(in: environment),
                  let port = deployment.port(route.target) else { return nil }
            return .init(path: route.path, upstream: target.name.replacingOccurrences(of: "-", with: "_"),
                         address: "\(target.instanceNames(in: environment)[0]):\(port)")
        }
        return View(
            upstream: upstream.name.replacingOccurrences(of: "-", with: "_"), servers: servers, maxFails: proxy.maxFails,
            failTimeout: TemplateValues.duration(proxy.failTimeoutSeconds), serverName: proxy.serverName.value(in: environment) ?? "_",
            httpsPort: service.publish?.value(in: environment)?.first?.number ?? 443,
            certificate: "/run/secrets/\(proxy.certificate.value)", key: "/run/secrets/\(proxy.key.value)",
            statusPort: service.port(named: proxy.statusPort.value) ?? 8081, readinessPath: proxy.readinessPath,
            websocketPath: proxy.websocketPath, websocketTimeout: TemplateValues.duration(proxy.websocketTimeoutSeconds),
            limit: proxy.loginLimit.map { .init(paths: $0.paths, rate: $0.rate.value, burst: $0.burst) },
            routes: routes, environment: label)
    }
}

/// Kubernetes: no nginx pod; its routes are the Ingresses `KubernetesIngress` writes for the cluster's controller.
extension NginxRenderer: KubernetesComponent {
    func wire(into wiring: inout KubernetesWiring) {
        guard let proxy = schema.deployment.proxy else { return }
        wiring.leaveOut(proxy.service.value, because: "its routes are the Ingresses of ingress.yaml, served by an ingress-nginx controller")
    }
}
