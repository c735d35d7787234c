/// `schema/deployment.yaml`: environments, networks, secrets, volumes, images and services.
extension SchemaLoader {
    static let serviceKeys = [
        "doc", "image", "command", "instances", "depends_on", "networks", "publish", "ports", "secrets",
        "volumes", "devices", "env", "health", "restart", "resources", "metrics", "user", "stop_grace",
    ]

    static let deploymentSections = [
        "environments", "networks", "secrets", "volumes", "images", "services",
        "proxy", "postgres", "redis", "rabbitmq", "backups", "monitoring",
    ]

    func loadDeploymentFile(_ root: SchemaNode) {
        guard let top = mapping(root, "the deployment file", allowed: Self.deploymentSections) else { return }
        var deployment = DeploymentDeclaration()
        if let node = value(top, "environments"), let entries = mapping(node, "environments") {
            deployment.environments = entries.compactMap { entry in
                guard let body = mapping(entry.value, "environment '\(entry.key)'", allowed: ["doc", "like", "publish_address", "local_override", "snapshot_key"]) else { return nil }
                var environment = EnvironmentDeclaration(name: entry.key, location: entry.keyLocation, doc: doc(body))
                if let node = value(body, "like"), let base = string(node, "'like' of environment '\(entry.key)'") {
                    environment.like = Located(base, at: node.location)
                }
                if let node = value(body, "snapshot_key") {
                    environment.snapshotKey = locatedString(node, "'snapshot_key' of environment '\(entry.key)'")
                }
                if let address = value(body, "publish_address").flatMap({ string($0, "'publish_address' of environment '\(entry.key)'") }) {
                    environment.publishAddress = address
                }
                if let node = value(body, "local_override"),
                   let override = mapping(node, "'local_override' of environment '\(entry.key)'", allowed: ["doc", "leave_out"]) {
                    environment.localOverride = .init(
                        doc: doc(override),
                        leaveOut: value(override, "leave_out").flatMap { stringList($0, "'leave_out' of environment '\(entry.key)'") } ?? [])
                }
                return environment
            }
            // The publish address is part of the topology an environment takes over with `like`.
            let written = Set(entries.filter { $0.value.entries?.contains { $0.key == "publish_address" } == true }.map(\.key))
            for index in deployment.environments.indices where !written.contains(deployment.environments[index].name) {
                if let base = deployment.environments[index].like?.value, let other = deployment.environments.first(where: { $0.name == base }) {
                    deployment.environments[index].publishAddress = other.publishAddress
                }
            }
        }
        if let node = value(top, "secrets"), let entries = mapping(node, "secrets") {
            deployment.secrets = entries.compactMap(loadSecret)
        }
        deployment.volumes = named(value(top, "volumes"), "volumes")
        schema.deployment = deployment
        if let networks = value(top, "networks"), let entries = mapping(networks, "networks") {
            schema.deployment.networks = entries.compactMap(loadNetwork)
        }
        if let images = value(top, "images"), let entries = mapping(images, "images") {
            schema.deployment.images = entries.compactMap { entry in
                guard let body = mapping(entry.value, "image '\(entry.key)'", allowed: ["dockerfile", "template", "external", "doc"]) else { return nil }
                let external = value(body, "external").flatMap { bool($0, "'external' of image '\(entry.key)'") } ?? false
                let dockerfile = value(body, "dockerfile").flatMap { string($0, "'dockerfile' of image '\(entry.key)'") }
                if external == (dockerfile != nil) {
                    diagnostics.error("image '\(entry.key)' needs either 'dockerfile' (built here) or 'external: true'", at: entry.keyLocation)
                }
                var image = ImageDeclaration(name: entry.key, location: entry.keyLocation, doc: doc(body), dockerfile: dockerfile)
                if let node = value(body, "template"), let template = choice(node, "Dockerfile template", as: ImageDeclaration.Template.self) {
                    image.template = template
                }
                return image
            }
        }
        if let services = value(top, "services"), let entries = mapping(services, "services") {
            schema.deployment.services = entries.compactMap(loadService)
        }
        loadDeploymentSettings(top)
    }

    private func loadSecret(_ entry: SchemaNode.Entry) -> SecretDeclaration? {
        let what = "secret '\(entry.key)'"
        guard let body = mapping(entry.value, what, allowed: ["doc", "generate", "of", "key", "ca", "names", "file"]) else { return nil }
        // A secret without `generate` is a password.
        let kindNode = value(body, "generate")
        var kind = "password"
        if let kindNode {
            guard let text = string(kindNode, "'generate' of \(what)") else { return nil }
            kind = text
        }
        let kindLocation = kindNode?.location ?? entry.keyLocation
        func reference(_ key: String) -> Located<String>? {
            value(body, key).flatMap { locatedString($0, "'\(key)' of \(what)") }
        }
        let generator: SecretDeclaration.Generator
        switch kind {
        case "password": generator = .password
        case "random_key": generator = .randomKey
        case "rsa_private_key": generator = .rsaPrivateKey
        case "tls_ca": generator = .tlsCA
        case "tls_private_key": generator = .tlsPrivateKey
        case "provided": generator = .provided
        case "rsa_public_key":
            if let of = reference("of") {
                generator = .rsaPublicKey(of: of)
            } else {
                diagnostics.error("\(what) is an rsa_public_key and needs 'of: <the private key secret>'", at: kindLocation)
                generator = .provided  // keeps the secret declared, so its users do not report it missing too
            }
        case "password_map":
            let names = value(body, "names").flatMap { stringList($0, "'names' of \(what)") }?.map(\.value) ?? []
            if let of = reference("of"), !names.isEmpty {
                generator = .passwordMap(of: of, names: names)
            } else {
                diagnostics.error("\(what) is a password_map and needs 'of: <the password secret>' and 'names: [the keys of the map]'", at: kindLocation)
                generator = .provided
            }
        case "tls_certificate":
            let names = value(body, "names").flatMap { stringList($0, "'names' of \(what)") }?.map(\.value) ?? []
            if let key = reference("key"), !names.isEmpty {
                generator = .tlsCertificate(key: key, ca: reference("ca"), names: names)
            } else {
                diagnostics.error("\(what) is a tls_certificate and needs 'key: <the private key secret>' and 'names: [host names]'", at: kindLocation)
                generator = .provided
            }
        default:
            let names = SecretDeclaration.Generator.keywords
            diagnostics.error(
                "unknown secret kind '\(kind)'\(NameSuggestion.hint(for: kind, in: names)) (expected one of: \(names.joined(separator: ", ")))",
                at: kindLocation)
            generator = .provided
        }
        let file = value(body, "file").flatMap { string($0, "'file' of \(what)") }
        return SecretDeclaration(name: entry.key, location: entry.keyLocation, doc: doc(body), generator: generator, file: file)
    }

    /// `name: { doc: ... }` declarations.
    private func named(_ node: SchemaNode?, _ what: String) -> [NamedDeclaration] {
        guard let node, let entries = mapping(node, what) else { return [] }
        return entries.compactMap { entry in
            guard let body = mapping(entry.value, "'\(entry.key)' in \(what)", allowed: ["doc"]) else { return nil }
            return NamedDeclaration(name: entry.key, location: entry.keyLocation, doc: doc(body))
        }
    }

    private func loadNetwork(_ entry: SchemaNode.Entry) -> NetworkDeclaration? {
        let what = "network '\(entry.key)'"
        guard let body = mapping(entry.value, what, allowed: ["driver", "parent", "subnet", "gateway", "internal", "doc"]) else { return nil }
        let driver = value(body, "driver").flatMap { node in
            perEnvironment(node, "the driver of \(what)") { choice($0, "network driver", as: NetworkDeclaration.Driver.self) }
        } ?? PerEnvironment(common: .bridge, location: entry.keyLocation)
        var network = NetworkDeclaration(name: entry.key, location: entry.keyLocation, driver: driver)
        network.doc = doc(body)
        network.parent = value(body, "parent").flatMap { string($0, "'parent' of \(what)") }
        network.subnet = value(body, "subnet").flatMap { string($0, "'subnet' of \(what)") }
        network.gateway = value(body, "gateway").flatMap { string($0, "'gateway' of \(what)") }
        network.isInternal = value(body, "internal").flatMap { node in
            perEnvironment(node, "'internal' of \(what)") { self.bool($0, "'internal' of \(what)") }
        }
        return network
    }

    private func loadService(_ entry: SchemaNode.Entry) -> ServiceDeclaration? {
        let what = "service '\(entry.key)'"
        guard let body = mapping(entry.value, what, allowed: Self.serviceKeys) else { return nil }
        guard let imageNode = value(body, "image"), let image = locatedString(imageNode, "the image of \(what)") else {
            if value(body, "image") == nil { diagnostics.error("\(what) has no 'image'", at: entry.keyLocation) }
            return nil
        }
        let instances = value(body, "instances").flatMap { node in
            perEnvironment(node, "the instances of \(what)") { self.int($0, "the instances of \(what)") }
        } ?? PerEnvironment(common: 1, location: entry.keyLocation)
        var service = ServiceDeclaration(name: entry.key, location: entry.keyLocation, image: image, instances: instances)
        service.doc = doc(body)
        service.command = value(body, "command").flatMap { node in
            perEnvironment(node, "the command of \(what)") { self.stringList($0, "the command of \(what)")?.map(\.value) }
        }
        service.dependsOn = value(body, "depends_on").flatMap { node in
            perEnvironment(node, "the dependencies of \(what)") { self.stringList($0, "the dependencies of \(what)") }
        }
        service.networks = value(body, "networks").flatMap { stringList($0, "the networks of \(what)") } ?? []
        service.secrets = value(body, "secrets").flatMap { stringList($0, "the secrets of \(what)") } ?? []
        service.volumes = value(body, "volumes").flatMap { stringList($0, "the volumes of \(what)") } ?? []
        service.publish = value(body, "publish").flatMap { node in
            perEnvironment(node, "the published ports of \(what)") { list in
                guard let items = list.items else {
                    self.diagnostics.error("expected a list of ports for the published ports of \(what), found \(list.kindDescription)", at: list.location)
                    return nil
                }
                return items.compactMap { self.publishedPort($0, "a published port of \(what)") }
            }
        }
        if let node = value(body, "metrics"), let entries = mapping(node, "the metrics of \(what)", allowed: ["port", "path"]) {
            if let port = value(entries, "port").flatMap({ locatedString($0, "'port' of the metrics of \(what)") }) {
                let path = value(entries, "path").flatMap { string($0, "'path' of the metrics of \(what)") } ?? "/metrics"
                service.metrics = .init(port: port, path: path)
            } else {
                diagnostics.error("the metrics of \(what) need 'port' (one of its named ports)", at: node.location)
            }
        }
        if let ports = value(body, "ports"), let entries = mapping(ports, "the ports of \(what)") {
            service.ports = entries.compactMap { port in
                int(port.value, "port '\(port.key)' of \(what)").map { .init(name: Located(port.key, at: port.keyLocation), number: $0) }
            }
        }
        service.devices = value(body, "devices").flatMap { node in
            perEnvironment(node, "the devices of \(what)") { self.stringList($0, "the devices of \(what)")?.map(\.value) }
        }
        if let env = value(body, "env"), let entries = mapping(env, "the env of \(what)") {
            service.environment = entries.compactMap { variable in
                perEnvironment(variable.value, "variable '\(variable.key)' of \(what)") {
                    self.string($0, "variable '\(variable.key)' of \(what)")
                }.map { .init(name: Located(variable.key, at: variable.keyLocation), value: $0) }
            }
        }
        service.health = value(body, "health").flatMap { loadHealthCheck($0, owner: what) }
        service.stopGraceSeconds = value(body, "stop_grace").flatMap { duration($0, "the stop grace period of \(what)") }
        if let node = value(body, "user"), let user = string(node, "the user of \(what)") {
            let parts = user.split(separator: ":", omittingEmptySubsequences: false)
            if parts.count != 2 || parts.contains(where: { Int($0) == nil }) {
                diagnostics.error("the user of \(what) must be written uid:gid (numbers), found '\(user)'", at: node.location)
            } else {
                service.user = user
            }
        }
        if let node = value(body, "restart"), let policy = choice(node, "restart policy", as: ServiceDeclaration.RestartPolicy.self) {
            service.restart = policy
        }
        service.resources = value(body, "resources").flatMap { node in
            perEnvironment(node, "the resources of \(what)") { self.loadResources($0, owner: what) }
        }
        return service
    }

    private func loadHealthCheck(_ node: SchemaNode, owner: String) -> ServiceDeclaration.HealthCheck? {
        let what = "the health check of \(owner)"
        let keys = ["http", "port", "tcp", "command", "interval", "timeout", "retries", "start_period"]
        guard let body = mapping(node, what, allowed: keys) else { return nil }
        let probe: ServiceDeclaration.HealthCheck.Probe
        if let path = value(body, "http").flatMap({ string($0, "'http' of \(what)") }) {
            guard let port = value(body, "port").flatMap({ int($0, "'port' of \(what)") }) else {
                diagnostics.error("an http health check needs 'port'", at: node.location)
                return nil
            }
            probe = .http(path: path, port: port)
        } else if let port = value(body, "tcp").flatMap({ int($0, "'tcp' of \(what)") }) {
            probe = .tcp(port: port)
        } else if let node = value(body, "command"), node.items != nil {
            // A list is run as it is (CMD), without a shell: what an image without /bin/sh needs.
            guard let argv = stringList(node, "'command' of \(what)")?.map(\.value), !argv.isEmpty else { return nil }
            probe = .exec(argv)
        } else if let command = value(body, "command").flatMap({ string($0, "'command' of \(what)") }) {
            probe = .command(command)
        } else {
            diagnostics.error("\(what) needs one of 'http' (with 'port'), 'tcp' or 'command'", at: node.location)
            return nil
        }
        func seconds(_ key: String, _ fallback: Int) -> Int {
            value(body, key).flatMap { duration($0, "'\(key)' of \(what)") } ?? fallback
        }
        return .init(probe: probe, intervalSeconds: seconds("interval", 10), timeoutSeconds: seconds("timeout", 5),
                     retries: value(body, "retries").flatMap { int($0, "'retries' of \(what)") } ?? 3,
                     startPeriodSeconds: seconds("start_period", 10), location: node.location)
    }

    /// `10s`, `2m` or a plain number of seconds.
    func duration(_ node: SchemaNode, _ what: String) -> Int? {
        guard let text = node.scalar else { return int(node, what) }
        let units: [(suffix: String, factor: Int)] = [("s", 1), ("m", 60), ("h", 3600)]
        for unit in units where text.hasSuffix(unit.suffix) {
            if let number = Int(text.dropLast()) { return number * unit.factor }
        }
        if let number = Int(text) { return number }
        diagnostics.error("expected a duration such as 10s or 2m for \(what), found '\(text)'", at: node.location)
        return nil
    }

    private func loadResources(_ node: SchemaNode, owner: String) -> ServiceDeclaration.Resources? {
        let what = "the resources of \(owner)"
        guard let body = mapping(node, what, allowed: ["cpus", "memory"]) else { return nil }
        guard let cpusNode = value(body, "cpus"), let memoryNode = value(body, "memory"),
              let cpus = string(cpusNode, "'cpus' of \(what)"), let memory = string(memoryNode, "'memory' of \(what)") else {
            diagnostics.error("\(what) needs both 'cpus' and 'memory'", at: node.location)
            return nil
        }
        guard let cpuValue = Double(cpus), cpuValue > 0 else {
            diagnostics.error("'cpus' of \(what) must be a positive number, found '\(cpus)'", at: cpusNode.location)
            return nil
        }
        let factors: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
        guard let unit = memory.last, let factor = factors[unit], let amount = Int(memory.dropLast()), amount > 0 else {
            diagnostics.error("'memory' of \(what) must be a size such as 512M or 2G, found '\(memory)'", at: memoryNode.location)
            return nil
        }
        return .init(cpus: cpus, memoryBytes: amount * factor, memoryText: memory)
    }

    /// A value that may be written once or per environment. A mapping is read per environment when one of its
    /// keys is (or nearly is) an environment name; unknown environment names are reported with a suggestion.
    func perEnvironment<Value: Hashable & Sendable>(
        _ node: SchemaNode, _ what: String, parse: (SchemaNode) -> Value?
    ) -> PerEnvironment<Value>? {
        let environments = schema.deployment.environments.map(\.name)
        if let entries = node.entries, !entries.isEmpty,
           entries.contains(where: { NameSuggestion.nearest(to: $0.key, in: environments) != nil }) {
            var overrides: [String: Value] = [:]
            for entry in entries {
                guard environments.contains(entry.key) else {
                    diagnostics.error(
                        "unknown environment '\(entry.key)' in \(what)\(NameSuggestion.hint(for: entry.key, in: environments))",
                        at: entry.keyLocation)
                    continue
                }
                if let value = parse(entry.value) { overrides[entry.key] = value }
            }
            // An environment `like` another has the other's value unless it names its own.
            for environment in schema.deployment.environments where overrides[environment.name] == nil {
                if let base = environment.like?.value, let value = overrides[base] { overrides[environment.name] = value }
            }
            return PerEnvironment(common: nil, overrides: overrides, location: node.location)
        }
        return parse(node).map { PerEnvironment(common: $0, location: node.location) }
    }
}

extension SchemaLoader {
    /// `443` or `7200/udp`.
    func publishedPort(_ node: SchemaNode, _ what: String) -> PublishedPort? {
        guard let text = node.scalar, !node.isNull, let port = PublishedPort(text: text) else {
            diagnostics.error("expected a port number, or a number and /tcp or /udp (7200/udp), for \(what), found \(node.scalar.map { "'\($0)'" } ?? node.kindDescription)",
                              at: node.location)
            return nil
        }
        return port
    }
}
