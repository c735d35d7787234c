/// `deploy/generated/docker-compose.<environment>.local.yml`, for an environment with `local_override:`:
/// what a machine that is not a production host changes when it runs the environment's own compose file
/// (`docker-compose -f docker-compose.prod.yml -f docker-compose.prod.local.yml up`), so the production file
/// itself is never edited for a test run.
///
/// - A macvlan network needs a parent interface on a VLAN: it becomes a bridge with the same subnet and
///   gateway (the host is the gateway, so panels simulated on the host are reachable at that address).
/// - A device (the GSM modem) is also bind-mounted: here it is a simulator's pty, which only a bind mount reaches.
/// - A service in `leave_out` gets a profile nobody enables, so `up` does not start it; a proxy route to it
///   points at an address where nothing listens (nginx refuses to start on an upstream name it cannot resolve),
///   so that route answers 502 instead of keeping nginx down.
struct LocalOverrideRenderer {
    static let templateNames = ["docker-compose-local"]
    /// The profile the left-out services get; `--profile` with this name would start them after all.
    static let leftOutProfile = "not-on-this-machine"

    let schema: Schema
    let templates: DeploymentTemplates

    struct View {
        var environment: String
        var doc: String
        var fileName: String
        var baseFileName: String
        var services: [Service]
        var hasServices: Bool
        var networks: [Network]
        var hasNetworks: Bool
    }

    struct Service {
        var name: String
        var profile: String?
        var extraHosts: [String]
        var hasExtraHosts: Bool
        var deviceBinds: [String] = []
        var hasDeviceBinds = false
    }

    struct Network { var name: String; var subnet: String; var networkGateway: String? }

    func render() -> [GeneratedFile] {
        schema.deployment.environments.compactMap { environment in
            guard let override = environment.localOverride else { return nil }
            return DeploymentRenderer.hashFile("docker-compose.\(environment.name).local.yml",
                                               templates.render("docker-compose-local", view(for: environment, override)))
        }
    }

    func view(for environment: EnvironmentDeclaration, _ override: EnvironmentDeclaration.LocalOverride) -> View {
        let env = environment.name
        let deployment = schema.deployment
        let leftOut = Set(override.leaveOut.map(\.value))
        var services: [Service] = []
        for service in deployment.services where leftOut.contains(service.name) {
            for instance in service.instanceNames(in: env) {
                services.append(Service(name: instance, profile: Self.leftOutProfile, extraHosts: [], hasExtraHosts: false))
            }
        }
        if let proxy = deployment.proxy, let proxyService = deployment.service(named: proxy.service.value) {
            let unreachable = proxy.routes.map(\.target.service.value).filter(leftOut.contains).flatMap { name in
                deployment.service(named: name)?.instanceNames(in: env) ?? []
            }
            if !unreachable.isEmpty {
                for instance in proxyService.instanceNames(in: env) {
                    let hosts = unreachable.map { "\($0):127.0.0.1" }
                    services.append(Service(name: instance, profile: nil, extraHosts: hosts.map(TemplateValues.quoted), hasExtraHosts: true))
                }
            }
        }
        // A simulated device is a pty of the host: a node the engine creates in the container with mknod reaches no
        // pty (open answers EIO, devpts is per instance), a bind mount of the host's node does. The device entry stays
        // (it is what lets the container use the device).
        for service in deployment.services where !leftOut.contains(service.name) {
            let devices = service.devices?.value(in: env) ?? []
            guard !devices.isEmpty else { continue }
            for instance in service.instanceNames(in: env) {
                services.append(Service(name: instance, profile: nil, extraHosts: [], hasExtraHosts: false,
                                        deviceBinds: devices.map(TemplateValues.quoted), hasDeviceBinds: true))
            }
        }
        let used = Set(deployment.services.filter { $0.runs(in: env) }.flatMap { $0.networks.map(\.value) })
        let networks = deployment.networks.filter { used.contains($0.name) && $0.driver.value(in: env) == .macvlan }.map { network in
            Network(name: network.name,
                    subnet: network.subnet.map { TemplateValues.variable("\(network.variablePrefix)_SUBNET", default: $0) } ?? "",
                    networkGateway: network.gateway.map { TemplateValues.variable("\(network.variablePrefix)_GATEWAY", default: $0) })
        }
        return View(environment: env, doc: override.doc ?? "", fileName: "docker-compose.\(env).local.yml",
                    baseFileName: "docker-compose.\(env).yml", services: services, hasServices: !services.isEmpty,
                    networks: networks, hasNetworks: !networks.isEmpty)
    }
}
