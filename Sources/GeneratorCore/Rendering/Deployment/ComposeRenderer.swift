/// `deploy/generated/docker-compose.<environment>.yml`: one compose file per environment of the schema.
///
/// Services with several instances become `<name>-1` ... `<name>-N`; depending on such a service means
/// depending on every instance, healthy (`service_healthy`) when it has a health check. Secrets are
/// Docker secret files, never environment values. Paths are relative to the compose file's directory,
/// which docker-compose resolves them against; site-specific values are compose variables with the
/// schema's value as the default.
struct ComposeRenderer {
    static let templateNames = ["docker-compose"]
    static let registryVariable = "STAM_IMAGE_REGISTRY"
    static let tagVariable = "STAM_IMAGE_TAG"
    static let publishAddressVariable = "STAM_PUBLISH_ADDRESS"
    /// The project root, seen from deploy/generated.
    static let projectRoot = "../.."

    let schema: Schema
    let templates: DeploymentTemplates
    let wiring: ComposeWiring

    func render() -> [GeneratedFile] {
        schema.deployment.environments.map { environment in
            DeploymentRenderer.hashFile("docker-compose.\(environment.name).yml",
                                        templates.render("docker-compose", view(for: environment)))
        }
    }

    // MARK: View model

    struct View {
        var environment: String
        var doc: String
        var fileName: String
        var services: [Service]
        var networks: [Network]
        var volumes: [String]
        var hasVolumes: Bool
        var secrets: [Secret]
        var hasSecrets: Bool
    }

    struct Service {
        struct Dependency { var name: String; var condition: String }
        struct Variable { var name: String; var value: String }
        struct Health { var test: String; var interval: String; var timeout: String; var retries: Int; var startPeriod: String }

        var name: String
        var serviceDoc: String?
        var image: String
        var hasBuild: Bool
        var buildContext: String
        var dockerfile: String
        var serviceEntrypoint: String?
        var serviceCommand: String?
        var restart: String
        var serviceUser: String?
        var serviceStopGrace: String?
        var dependsOn: [Dependency]
        var hasDependsOn: Bool
        var networks: String
        var ports: [String]
        var hasPorts: Bool
        var devices: [String]
        var hasDevices: Bool
        var serviceSecrets: String?
        var volumes: [String]
        var hasVolumes: Bool
        var environment: [Variable]
        var hasEnvironment: Bool
        var serviceHealth: Health?
        var serviceCpus: String?
        var serviceMemory: String?
    }

    struct Network {
        var name: String; var driver: String; var networkParent: String?; var subnet: String; var networkGateway: String?; var hasIPAM: Bool
        /// No route out (`internal:`): without it, a container of another network could reach this one's containers
        /// by address through the host, and networks by role would be names only.
        var isInternal: Bool
    }
    struct Secret { var name: String; var file: String }

    func view(for environment: EnvironmentDeclaration) -> View {
        let env = environment.name
        let deployment = schema.deployment
        let running = deployment.services.filter { $0.runs(in: env) }
        var services: [Service] = []
        for service in running {
            for instance in service.instanceNames(in: env) {
                services.append(view(of: service, instance: instance, in: environment))
            }
        }
        let usedNetworks = Set(running.flatMap { $0.networks.map(\.value) })
        let networks = deployment.networks.filter { usedNetworks.contains($0.name) }.map { network -> Network in
            let driver = network.driver.value(in: env) ?? .bridge
            let prefix = network.variablePrefix
            let macvlan = driver == .macvlan
            return Network(
                name: network.name, driver: driver.rawValue,
                networkParent: macvlan ? network.parent.map { TemplateValues.variable("\(prefix)_PARENT", default: $0) } : nil,
                subnet: network.subnet.map { TemplateValues.variable("\(prefix)_SUBNET", default: $0) } ?? "",
                networkGateway: macvlan ? network.gateway.map { TemplateValues.variable("\(prefix)_GATEWAY", default: $0) } : nil,
                hasIPAM: macvlan && network.subnet != nil, isInternal: network.isInternal?.value(in: env) ?? false)
        }
        let usedVolumes = Set(running.flatMap { $0.volumes.compactMap { $0.value.split(separator: ":").first.map(String.init) } })
        let volumes = deployment.volumes.map(\.name).filter { usedVolumes.contains($0) }
        let usedSecrets = Set(running.flatMap { $0.secrets.map(\.value) })
        let secrets = deployment.secrets.filter { usedSecrets.contains($0.name) }.map { secret in
            Secret(name: secret.name, file: Self.hostPath(of: secret))
        }
        return View(environment: env, doc: environment.doc ?? "", fileName: "docker-compose.\(env).yml", services: services,
                    networks: networks, volumes: volumes, hasVolumes: !volumes.isEmpty, secrets: secrets, hasSecrets: !secrets.isEmpty)
    }

    /// How a dependant waits for `target`: a one-shot job (`restart: "no"`, such as `migrate`) until it exited
    /// with 0, a service with a health check until it is healthy, any other until it started.
    static func condition(dependingOn target: ServiceDeclaration) -> String {
        if target.restart == .no { return "service_completed_successfully" }
        return target.health == nil ? "service_started" : "service_healthy"
    }

    /// The host port a published port binds to is a site setting (`STAM_NGINX_HTTPS_PORT` for nginx's `https`):
    /// a second stack on one machine, or a host whose 443 is taken, moves it without editing the file. Each
    /// instance of a service with several has its own (`STAM_DC09_RECEIVER_2_DC09_PORT`), by default the port plus
    /// the instance's place (7200, 7201): two instances cannot share a host port. TCP and UDP of a port move together.
    static func publishPortVariable(_ service: ServiceDeclaration, _ port: Int, instance: String? = nil) -> String {
        let name = service.ports.first { $0.number == port }?.name.value ?? String(port)
        return "STAM_\(instance ?? service.name)_\(name)_PORT".uppercased().replacingOccurrences(of: "-", with: "_")
    }

    /// `secrets/x` -> `${STAM_SECRETS_DIR:-../../secrets}/x`: the directory can be moved, the name cannot.
    static func hostPath(of secret: SecretDeclaration) -> String {
        let parts = secret.file.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return "\(projectRoot)/\(secret.file)" }
        let variable = "STAM_\(parts[0].uppercased().replacingOccurrences(of: "-", with: "_"))_DIR"
        return TemplateValues.variable(variable, default: "\(projectRoot)/\(parts[0])") + "/\(parts[1])"
    }

    /// The image reference of a service in an environment: images built here come from the registry CI
    /// pushes to (prod, and an environment like it) or are built locally (every other environment).
    func imageReference(_ name: String, environment: String) -> (image: String, dockerfile: String?) {
        guard let dockerfile = schema.deployment.image(named: name)?.dockerfile else { return (name, nil) }
        if schema.deployment.baseEnvironment(of: environment) == "prod" {
            return ("\(TemplateValues.variable(Self.registryVariable, default: "localhost:5000"))/\(name):\(TemplateValues.variable(Self.tagVariable, default: "latest"))", nil)
        }
        return ("\(name):\(environment)", dockerfile)
    }

    private func view(of service: ServiceDeclaration, instance: String, in environment: EnvironmentDeclaration) -> Service {
        let env = environment.name
        let deployment = schema.deployment
        let (image, dockerfile) = imageReference(service.image.value, environment: env)
        var dependencies: [Service.Dependency] = []
        for dependency in service.dependsOn?.value(in: env) ?? [] {
            guard let target = deployment.service(named: dependency.value) else { continue }
            for name in target.instanceNames(in: env) {
                dependencies.append(.init(name: name, condition: Self.condition(dependingOn: target)))
            }
        }
        let instances = service.instanceNames(in: env)
        let index = instances.count > 1 ? instances.firstIndex(of: instance) : nil
        let published = (service.publish?.value(in: env) ?? []).map { port in
            let hostPort = TemplateValues.variable(Self.publishPortVariable(service, port.number, instance: index.map { _ in instance }),
                                                   default: String(port.number + (index ?? 0)))
            let suffix = port.transport == .tcp ? "" : "/\(port.transport.rawValue)"
            return "\(TemplateValues.variable(Self.publishAddressVariable, default: environment.publishAddress)):\(hostPort):\(port.number)\(suffix)"
        }
        var variables = service.environment.compactMap { variable -> Service.Variable? in
            variable.value.value(in: env).map { .init(name: variable.name.value, value: TemplateValues.quoted(TemplateValues.composeLiteral($0))) }
        }
        if dockerfile != nil || deployment.image(named: service.image.value)?.dockerfile != nil {
            variables.append(.init(name: "STAM_INSTANCE", value: TemplateValues.quoted(instance)))
        }
        // A network with a site subnet of its own is the panel VLAN: a stam service on it keeps its HTTP port
        // (/readyz, /metrics) off that network (issue 18). The subnet is the network's compose variable.
        let vlans = service.networks.compactMap { name in deployment.networks.first { $0.name == name.value } }
            .compactMap { network in network.subnet.map { TemplateValues.variable("\(network.variablePrefix)_SUBNET", default: $0) } }
        if !vlans.isEmpty, service.port(named: "metrics") != nil {
            variables.append(.init(name: "STAM_METRICS_NOT_ON", value: TemplateValues.quoted(vlans.joined(separator: ","))))
        }
        // The proxy's upstream believes the client address the proxy reports (X-Real-IP), and only the proxy's:
        // the backend resolves these names (docs/SECURITY.md, login throttling).
        if let proxy = deployment.proxy, proxy.upstream.service.value == service.name,
           let proxyService = deployment.service(named: proxy.service.value) {
            let names = proxyService.instanceNames(in: env)
            if !names.isEmpty { variables.append(.init(name: "STAM_TRUSTED_PROXIES", value: TemplateValues.quoted(names.joined(separator: ",")))) }
        }
        let command = wiring.command(of: service.name, in: env) ?? service.command?.value(in: env)
        let volumes = service.volumes.map(\.value) + wiring.mounts(of: service.name, in: env)
        let devices = service.devices?.value(in: env) ?? []
        let resources = service.resources?.value(in: env)
        return Service(
            name: instance, serviceDoc: service.doc.map { $0.split(separator: "\n").joined(separator: " ") }, image: image,
            hasBuild: dockerfile != nil, buildContext: Self.projectRoot,
            dockerfile: dockerfile ?? "",
            serviceEntrypoint: wiring.entrypoint(of: service.name, in: env).map { TemplateValues.flowList($0.map(TemplateValues.composeLiteral)) },
            serviceCommand: command.map { TemplateValues.flowList($0.map(TemplateValues.composeLiteral)) },
            restart: service.restart == .no ? TemplateValues.quoted("no") : service.restart.rawValue, serviceUser: service.user.map(TemplateValues.quoted),
            serviceStopGrace: service.stopGraceSeconds.map { "\($0)s" }, dependsOn: dependencies, hasDependsOn: !dependencies.isEmpty,
            networks: TemplateValues.flowList(service.networks.map(\.value)), ports: published.map(TemplateValues.quoted),
            hasPorts: !published.isEmpty, devices: devices.map(TemplateValues.quoted), hasDevices: !devices.isEmpty,
            serviceSecrets: service.secrets.isEmpty ? nil : TemplateValues.flowList(service.secrets.map(\.value)),
            volumes: volumes.map(TemplateValues.quoted), hasVolumes: !volumes.isEmpty,
            environment: variables, hasEnvironment: !variables.isEmpty,
            serviceHealth: service.health.map(health), serviceCpus: resources?.cpus, serviceMemory: resources?.memoryText)
    }

    private func health(_ check: ServiceDeclaration.HealthCheck) -> Service.Health {
        let test: [String] = switch check.probe {
        case .http(let path, let port):
            ["CMD", "curl", "-fsS", "-o", "/dev/null", "--max-time", String(check.timeoutSeconds), "http://127.0.0.1:\(port)\(path)"]
        case .tcp(let port):
            ["CMD", "bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/\(port)"]
        case .exec(let argv):
            ["CMD"] + argv
        case .command(let command):
            ["CMD-SHELL", command]
        }
        return .init(test: TemplateValues.flowList(test.map(TemplateValues.composeLiteral)),
                     interval: "\(check.intervalSeconds)s", timeout: "\(check.timeoutSeconds)s",
                     retries: check.retries, startPeriod: "\(check.startPeriodSeconds)s")
    }
}
