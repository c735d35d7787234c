/// The deployment topology: every name a service uses is declared, every dependency runs where the
/// dependent runs, and the dependency graph of each environment has no cycle.
extension SchemaValidator {
    func isServiceName(_ name: String) -> Bool {
        guard let first = name.first, first.isASCII, first.isLowercase else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }
    }

    mutating func checkDeployment() {
        let deployment = schema.deployment
        let environments = deployment.environments.map(\.name)
        if environments.isEmpty && !deployment.services.isEmpty {
            diagnostics.error("the deployment declares services but no environments", at: deployment.services[0].location)
        }
        for environment in deployment.environments {
            checkSnakeName(environment.name, "environment name", at: environment.location, context: "env")
            checkLocalOverride(of: environment)
            checkLike(of: environment)
        }
        var used = (networks: Set<String>(), secrets: Set<String>(), volumes: Set<String>(), images: Set<String>())
        var seenNames: [String: String] = [:]
        for service in deployment.services {
            let owner = "service '\(service.name)'"
            if !isServiceName(service.name) {
                diagnostics.error("invalid identifier '\(service.name)' for a service: use lower-case letters, digits and -", at: service.location)
            }
            for environment in environments {
                for instance in service.instanceNames(in: environment) {
                    if let other = seenNames[instance], other != service.name {
                        diagnostics.error("\(owner) runs an instance named '\(instance)', which is also service '\(other)'", at: service.location)
                    }
                    seenNames[instance] = service.name
                }
            }
            checkDeclared([service.image], in: deployment.images.map(\.name), kind: "image", owner: owner, used: &used.images)
            checkDeclared(service.networks, in: deployment.networks.map(\.name), kind: "network", owner: owner, used: &used.networks)
            checkDeclared(service.secrets, in: deployment.secrets.map(\.name), kind: "secret", owner: owner, used: &used.secrets)
            let namedVolumes = service.volumes.compactMap { volume -> Located<String>? in
                guard let name = volume.value.split(separator: ":").first, !name.hasPrefix("/"), !name.hasPrefix(".") else { return nil }
                return Located(String(name), at: volume.location)
            }
            checkDeclared(namedVolumes, in: deployment.volumes.map(\.name), kind: "volume", owner: owner, used: &used.volumes)
            for (instances, count) in service.instances.overrides.map({ ($0.key, $0.value) }).sorted(by: { $0.0 < $1.0 }) where count < 0 {
                diagnostics.error("\(owner) has \(count) instances in '\(instances)'; use 0 or more", at: service.instances.location)
            }
            checkPortsAndHealth(of: service, owner: owner, environments: environments)
            for variable in service.environment {
                let name = variable.name.value
                if !name.allSatisfy({ $0.isASCII && ($0.isUppercase || $0.isNumber || $0 == "_") }) || name.first?.isNumber == true {
                    diagnostics.error("invalid environment variable name '\(name)' for \(owner): use A-Z, 0-9 and _", at: variable.name.location)
                }
                // `X_PASSWORD_FILE: /run/secrets/x` names a secret file the service mounts; that is the right way.
                if name.hasSuffix("_FILE"), let path = variable.value.common, path.hasPrefix("/run/secrets/"),
                   variable.value.overrides.isEmpty {
                    let secret = String(path.dropFirst("/run/secrets/".count))
                    if !service.secrets.contains(where: { $0.value == secret }) {
                        diagnostics.error(
                            "environment variable '\(name)' of \(owner) points at secret '\(secret)', which the service does not list in its 'secrets'",
                            at: variable.name.location)
                    }
                    continue
                }
                // A database URL's CA file (`sslrootcert=/run/secrets/x`) is a secret the service mounts too.
                for value in variable.value.writtenValues {
                    for part in value.split(whereSeparator: { ",&?".contains($0) }) where part.hasPrefix("sslrootcert=/run/secrets/") {
                        let secret = String(part.dropFirst("sslrootcert=/run/secrets/".count))
                        if !service.secrets.contains(where: { $0.value == secret }) {
                            diagnostics.error(
                                "environment variable '\(name)' of \(owner) verifies against secret '\(secret)' (sslrootcert), which the service does not list in its 'secrets'",
                                at: variable.name.location)
                        }
                    }
                }
                if ["PASSWORD", "SECRET", "TOKEN", "PRIVATE", "_KEY"].contains(where: { name.contains($0) }) {
                    diagnostics.error(
                        "environment variable '\(name)' of \(owner) looks like a secret; secrets are files: declare it under 'secrets:' and list it in the service's 'secrets'",
                        at: variable.name.location)
                }
            }
            checkDependencies(of: service, environments: environments)
        }
        for environment in environments { checkCycles(in: environment) }
        used.secrets.formUnion(checkSecrets())
        for environment in deployment.environments {
            guard let key = environment.snapshotKey else { continue }
            used.secrets.insert(key.value)
            guard let secret = deployment.secret(named: key.value) else {
                diagnostics.error("'snapshot_key' of environment '\(environment.name)' is '\(key.value)', which is not declared under 'secrets:'"
                                  + NameSuggestion.hint(for: key.value, in: deployment.secrets.map(\.name)), at: key.location)
                continue
            }
            if secret.generator.keyword != "random_key" {
                diagnostics.error("'snapshot_key' of environment '\(environment.name)' is '\(key.value)', which is generated as \(secret.generator.keyword), not random_key",
                                  at: key.location)
            }
        }
        used.volumes.formUnion(checkDeploymentSettings())
        warnUnused(deployment.networks.map { ($0.name, $0.location) }, used: used.networks, kind: "network")
        warnUnused(deployment.secrets.map { ($0.name, $0.location) }, used: used.secrets, kind: "secret")
        warnUnused(deployment.volumes.map { ($0.name, $0.location) }, used: used.volumes, kind: "volume")
        warnUnused(deployment.images.map { ($0.name, $0.location) }, used: used.images, kind: "image")
    }

    private mutating func checkDeclared(
        _ names: [Located<String>], in declared: [String], kind: String, owner: String, used: inout Set<String>
    ) {
        for name in names {
            used.insert(name.value)
            if !declared.contains(name.value) {
                diagnostics.error(
                    "\(owner) uses \(kind) '\(name.value)', which is not declared under '\(kind)s:'\(NameSuggestion.hint(for: name.value, in: declared))",
                    at: name.location)
            }
        }
    }

    private mutating func warnUnused(_ declared: [(String, SourceLocation)], used: Set<String>, kind: String) {
        for (name, location) in declared where !used.contains(name) {
            diagnostics.warning("\(kind) '\(name)' is declared but no service uses it", at: location)
        }
    }

    private mutating func checkPortsAndHealth(of service: ServiceDeclaration, owner: String, environments: [String]) {
        for port in service.ports where !(1...65535).contains(port.number) {
            diagnostics.error("port '\(port.name.value)' of \(owner) is \(port.number); use 1-65535", at: port.name.location)
        }
        if let publish = service.publish {
            let published = Set(environments.flatMap { publish.value(in: $0) ?? [] }.map(\.number))
            for port in published.sorted() where !service.ports.contains(where: { $0.number == port }) {
                diagnostics.error("\(owner) publishes port \(port), which is not one of its ports", at: publish.location)
            }
        }
        if let metrics = service.metrics, service.port(named: metrics.port.value) == nil {
            diagnostics.error(
                "the metrics of \(owner) are on port '\(metrics.port.value)', which is not one of its named ports\(NameSuggestion.hint(for: metrics.port.value, in: service.ports.map(\.name.value)))",
                at: metrics.port.location)
        }
        guard let health = service.health else { return }
        let probedPort: Int? = switch health.probe {
        case .http(_, let port), .tcp(let port): port
        case .command, .exec: nil
        }
        if let probedPort, !service.ports.contains(where: { $0.number == probedPort }) {
            diagnostics.error("the health check of \(owner) probes port \(probedPort), which is not one of its ports", at: health.location)
        }
    }

    /// `leave_out:` names services that run in the environment, and none that a service left running needs.
    /// `like` names another environment that is not itself `like` a third: one step, so a value is always
    /// the environment's own or its base's.
    private mutating func checkLike(of environment: EnvironmentDeclaration) {
        guard let like = environment.like else { return }
        let others = schema.deployment.environments.map(\.name).filter { $0 != environment.name }
        guard let base = schema.deployment.environment(named: like.value), base.name != environment.name else {
            let problem = like.value == environment.name ? "names the environment itself" : "names an unknown environment '\(like.value)'"
            diagnostics.error("'like' of environment '\(environment.name)' \(problem)\(NameSuggestion.hint(for: like.value, in: others))",
                              at: like.location)
            return
        }
        if let next = base.like {
            diagnostics.error(
                "'like' of environment '\(environment.name)' names '\(base.name)', which is itself like '\(next.value)'; name '\(next.value)' directly",
                at: like.location)
        }
    }

    private mutating func checkLocalOverride(of environment: EnvironmentDeclaration) {
        guard let override = environment.localOverride else { return }
        let running = schema.deployment.services.filter { !$0.instanceNames(in: environment.name).isEmpty }
        let names = running.map(\.name)
        let leftOut = Set(override.leaveOut.map(\.value))
        for name in override.leaveOut where !names.contains(name.value) {
            diagnostics.error(
                "'leave_out' of environment '\(environment.name)' names '\(name.value)', which does not run there\(NameSuggestion.hint(for: name.value, in: names))",
                at: name.location)
        }
        for service in running where !leftOut.contains(service.name) {
            for dependency in service.dependsOn?.value(in: environment.name) ?? [] where leftOut.contains(dependency.value) {
                diagnostics.error(
                    "'leave_out' of environment '\(environment.name)' leaves out '\(dependency.value)', which service '\(service.name)' depends on; leave out '\(service.name)' too",
                    at: dependency.location)
            }
        }
    }

    private mutating func checkDependencies(of service: ServiceDeclaration, environments: [String]) {
        guard let dependsOn = service.dependsOn else { return }
        let serviceNames = schema.deployment.services.map(\.name)
        var reported = Set<String>()
        for environment in environments where !service.instanceNames(in: environment).isEmpty {
            for dependency in dependsOn.value(in: environment) ?? [] {
                guard let target = schema.deployment.service(named: dependency.value) else {
                    if reported.insert(dependency.value).inserted {
                        diagnostics.error(
                            "service '\(service.name)' depends on '\(dependency.value)', which is not a service\(NameSuggestion.hint(for: dependency.value, in: serviceNames))",
                            at: dependency.location)
                    }
                    continue
                }
                if target.name == service.name {
                    diagnostics.error("service '\(service.name)' depends on itself", at: dependency.location)
                } else if target.instanceNames(in: environment).isEmpty {
                    diagnostics.error(
                        "service '\(service.name)' depends on '\(target.name)' in environment '\(environment)', where '\(target.name)' does not run",
                        at: dependency.location)
                }
            }
        }
    }

    /// Depth-first search over one environment's dependency graph, in declaration order so the reported
    /// cycle is the same on every run.
    private mutating func checkCycles(in environment: String) {
        let services = schema.deployment.services.filter { !$0.instanceNames(in: environment).isEmpty }
        var state: [String: Int] = [:]  // 1 visiting, 2 done
        var path: [String] = []
        var reported = Set<String>()

        func visit(_ service: ServiceDeclaration, _ validator: inout SchemaValidator) {
            state[service.name] = 1
            path.append(service.name)
            for dependency in service.dependsOn?.value(in: environment) ?? [] {
                guard let target = services.first(where: { $0.name == dependency.value }), target.name != service.name else { continue }
                if state[target.name] == 1 {
                    let cycle = Array(path[path.firstIndex(of: target.name)!...]) + [target.name]
                    if reported.insert(Set(cycle).sorted().joined(separator: ",")).inserted {
                        validator.diagnostics.error(
                            "dependency cycle in environment '\(environment)': \(cycle.joined(separator: " -> "))",
                            at: dependency.location)
                    }
                } else if state[target.name] == nil {
                    visit(target, &validator)
                }
            }
            path.removeLast()
            state[service.name] = 2
        }

        for service in services where state[service.name] == nil {
            visit(service, &self)
        }
    }
}
