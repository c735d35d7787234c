/// nginx's part on Kubernetes (docs/KUBERNETES-DESIGN.md section 1b): no nginx pod, but Ingresses for the
/// ingress-nginx controller from the same `proxy:` section, in each environment where the proxy runs.
///
/// - `stam`: the environment's `server_name`, `/` to the upstream and every `routes` path to its service.
/// - `stam-websocket`: the WebSocket path, kept open for `websocket.timeout` (annotations apply per Ingress).
/// - `stam-login`: the login paths with the rate limit of `login_limit`.
///
/// All share the TLS Secret named after the certificate secret (type kubernetes.io/tls, created out of band)
/// and keep a client on one backend with a cookie (nginx's ip_hash: behind a cloud load balancer every client
/// would have the balancer's address). The upstream scales with CPU between `instances` and twice that.
struct KubernetesIngress {
    static let className = "nginx"
    /// Where ingress-nginx runs: its pods may reach the services behind the Ingress.
    static let controllerNamespace = "ingress-nginx"
    static let affinityCookie = "stam-backend"
    /// Defaults, with no key in the schema: at most twice the instances, scaled at 70 % of the requested CPU.
    static let maximumScale = 2
    static let targetCPUPercent = 70

    let schema: Schema
    /// The services that have Kubernetes objects: a route to another (Grafana, not rendered yet) is left out, and
    /// the overlay names it. Nil: every service.
    var renderedServices: Set<String>? = nil

    private var deployment: DeploymentDeclaration { schema.deployment }

    /// The proxy runs in this environment (prod, stage; dev publishes the backend itself).
    func applies(in environment: String) -> Bool {
        guard let proxy = deployment.proxy, let service = deployment.service(named: proxy.service.value) else { return false }
        return service.runs(in: environment)
    }

    /// The service the HorizontalPodAutoscaler scales in an environment, if any.
    func autoscaled(in environment: String) -> String? {
        applies(in: environment) ? deployment.proxy?.upstream.service.value : nil
    }

    func ingresses(in environment: String) -> [YAMLTree] {
        guard applies(in: environment), let proxy = deployment.proxy, let host = proxy.serverName.value(in: environment),
              let upstreamPort = deployment.service(named: proxy.upstream.service.value)?.ports.first(where: { $0.name.value == proxy.upstream.port.value }) else { return [] }
        let upstream = (service: proxy.upstream.service.value, port: upstreamPort.name.value)
        var common: [YAMLTree.Entry] = [
            .init(key: "nginx.ingress.kubernetes.io/affinity", value: .string("cookie")),
            .init(key: "nginx.ingress.kubernetes.io/session-cookie-name", value: .string(Self.affinityCookie)),
            .init(key: "nginx.ingress.kubernetes.io/session-cookie-path", value: .string("/")),
            .init(key: "nginx.ingress.kubernetes.io/session-cookie-secure", value: .string("true")),
            .init(key: "nginx.ingress.kubernetes.io/proxy-body-size", value: .string(NginxRenderer.maxBodySize)),
            .init(key: "nginx.ingress.kubernetes.io/proxy-connect-timeout", value: .string(String(NginxRenderer.connectTimeoutSeconds))),
        ]
        common.append(.init(key: "stam.io/doc", value: .string("From the proxy: section of schema/deployment.yaml, as nginx.conf.")))
        var main: [(path: String, type: String, service: String, port: String)] = [("/", "Prefix", upstream.service, upstream.port)]
        for route in routes {
            main.append((route.path, "Prefix", route.target.service.value, route.target.port.value))
        }
        var ingresses = [
            ingress("stam", host: host, certificate: proxy.certificate.value, annotations: common, paths: main),
            ingress("stam-websocket", host: host, certificate: proxy.certificate.value,
                    annotations: common + [
                        .init(key: "nginx.ingress.kubernetes.io/proxy-read-timeout", value: .string(String(proxy.websocketTimeoutSeconds))),
                        .init(key: "nginx.ingress.kubernetes.io/proxy-send-timeout", value: .string(String(proxy.websocketTimeoutSeconds))),
                    ],
                    paths: [(proxy.websocketPath, "Prefix", upstream.service, upstream.port)]),
        ]
        if let limit = proxy.loginLimit, let rate = Self.rate(limit.rate.value) {
            // ingress-nginx's burst is the rate times the multiplier.
            let multiplier = max(1, (limit.burst + rate.count - 1) / rate.count)
            ingresses.append(ingress("stam-login", host: host, certificate: proxy.certificate.value,
                                     annotations: common + [
                                         .init(key: "nginx.ingress.kubernetes.io/\(rate.annotation)", value: .string(String(rate.count))),
                                         .init(key: "nginx.ingress.kubernetes.io/limit-burst-multiplier", value: .string(String(multiplier))),
                                     ],
                                     // nginx matches each path with and without a final slash.
                                     paths: limit.paths.flatMap { [($0, "Exact", upstream.service, upstream.port), ($0 + "/", "Exact", upstream.service, upstream.port)] }))
        }
        return ingresses + [controllerPolicy([proxy.upstream] + routes.map(\.target))]
    }

    /// The proxy's routes to services that have Kubernetes objects.
    var routes: [ProxySettings.Route] {
        (deployment.proxy?.routes ?? []).filter { renderedServices?.contains($0.target.service.value) ?? true }
    }

    /// The proxy's routes left out, for the overlay's note.
    var unroutedPaths: [String] {
        (deployment.proxy?.routes ?? []).filter { renderedServices?.contains($0.target.service.value) == false }.map(\.path)
    }

    /// nginx's `5r/m` / `10r/s` as ingress-nginx's annotation and count.
    static func rate(_ text: String) -> (annotation: String, count: Int)? {
        let parts = text.split(separator: "r/")
        guard parts.count == 2, let count = Int(parts[0]), count > 0 else { return nil }
        switch parts[1] {
        case "m": return ("limit-rpm", count)
        case "s": return ("limit-rps", count)
        default: return nil
        }
    }

    func ingress(_ name: String, host: String, certificate: String, annotations: [YAMLTree.Entry],
                 paths: [(path: String, type: String, service: String, port: String)]) -> YAMLTree {
        .object([
            "apiVersion": .string("networking.k8s.io/v1"), "kind": .string("Ingress"),
            "metadata": .object(["name": .string(name), "labels": .object(["app.kubernetes.io/part-of": .string("stam")]), "annotations": .map(annotations)]),
            "spec": .object([
                "ingressClassName": .string(Self.className),
                "tls": .list([.object(["hosts": .list([.string(host)]), "secretName": .string(KubernetesRenderer.dnsName(certificate))])]),
                "rules": .list([.object([
                    "host": .string(host),
                    "http": .object(["paths": .list(paths.map { path in
                        .object([
                            "path": .string(path.path), "pathType": .string(path.type),
                            "backend": .object(["service": .object(["name": .string(path.service), "port": .object(["name": .string(path.port)])])]),
                        ])
                    })]),
                ])]),
            ]),
        ])
    }

    /// The controller's pods, in their own namespace, may reach the pods behind the Ingress on their ports (an
    /// `ipBlock` need not match pods of the cluster).
    func controllerPolicy(_ targets: [ServicePort]) -> YAMLTree {
        let names = targets.map(\.service.value).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let ports = Set(targets.compactMap { deployment.port($0) }).sorted()
        return .object([
            "apiVersion": .string("networking.k8s.io/v1"), "kind": .string("NetworkPolicy"),
            "metadata": .object(["name": .string("ingress-controller"), "labels": .object(["app.kubernetes.io/part-of": .string("stam")])]),
            "spec": .object([
                "podSelector": .object(["matchExpressions": .list([.object([
                    "key": .string("app.kubernetes.io/name"), "operator": .string("In"), "values": .list(names.map(YAMLTree.string)),
                ])])]),
                "policyTypes": .list([.string("Ingress")]),
                "ingress": .list([.object([
                    "from": .list([.object(["namespaceSelector": .object(["matchLabels": .object([
                        "kubernetes.io/metadata.name": .string(Self.controllerNamespace)])])])]),
                    "ports": .list(ports.map { .object(["protocol": .string("TCP"), "port": .int($0)]) }),
                ])]),
            ]),
        ])
    }

    /// The upstream between its instances and `maximumScale` times that, on CPU (its requests are its limits).
    func autoscaler(in environment: String) -> YAMLTree? {
        guard let name = autoscaled(in: environment), let service = deployment.service(named: name),
              let instances = service.instances.value(in: environment), instances > 0 else { return nil }
        return .object([
            "apiVersion": .string("autoscaling/v2"), "kind": .string("HorizontalPodAutoscaler"),
            "metadata": .object(["name": .string(name), "labels": KubernetesRenderer.labels(service)]),
            "spec": .object([
                "scaleTargetRef": .object(["apiVersion": .string("apps/v1"), "kind": .string("Deployment"), "name": .string(name)]),
                "minReplicas": .int(instances),
                "maxReplicas": .int(instances * Self.maximumScale),
                "metrics": .list([.object([
                    "type": .string("Resource"),
                    "resource": .object(["name": .string("cpu"), "target": .object(["type": .string("Utilization"), "averageUtilization": .int(Self.targetCPUPercent)])]),
                ])]),
            ]),
        ])
    }
}
