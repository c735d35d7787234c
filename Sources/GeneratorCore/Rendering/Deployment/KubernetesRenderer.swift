import MigrationSupport

/// `deploy/generated/k8s/`: the topology as a kustomize base and one overlay per environment, from the same
/// services, ports, secrets, health checks, resources and instances as the compose files.
///
/// - `base/<service>/`: the service's workload (a Deployment; a Job for a one-shot service; a StatefulSet for a
///   service whose instances have addresses of their own, the DC-09 receivers), its Service, and the parts every
///   environment shares: ports, probes, the secret files at `/run/secrets/<name>`, the security context.
/// - `base/volumes/<volume>/`: the PersistentVolumeClaim of a named volume.
/// - `overlays/<environment>/`: the services that run there, each patched with what differs by environment
///   (replicas, arguments, variables, resources), the images' names and tags, and the namespace `stam-<environment>`.
///
/// Secrets are referenced by name (the schema's name with `-` for `_`), never written here. Rendered: the services
/// that run the stam image without a device, and those a component wires for Kubernetes (`KubernetesWiring`:
/// Patroni, PgBouncer, Redis, RabbitMQ; nginx as Ingresses, `KubernetesIngress`); `notRendered` lists the others.
struct KubernetesRenderer {
    static let directory = "k8s"
    /// The key under which a Secret holds its value: the schema's secret name, so the file in `/run/secrets` keeps it.
    static let secretsMountPath = "/run/secrets"
    /// Pods that talk to the Kubernetes API carry this label; a NetworkPolicy lets them reach it.
    static let apiClientLabel = "stam.io/kubernetes-api"

    let schema: Schema
    var wiring = KubernetesWiring()

    var deployment: DeploymentDeclaration { schema.deployment }

    func render() -> [GeneratedFile] {
        guard !deployment.environments.isEmpty else { return [] }
        var files: [GeneratedFile] = []
        let services = rendered
        for service in services {
            files.append(file("base/\(service.name)/kustomization.yaml", Self.kustomization(resources: ["\(service.name).yaml"])))
            files.append(file("base/\(service.name)/\(service.name).yaml", YAMLTree.documents(baseObjects(of: service))))
            for config in wiring.service(service.name).configs {
                files.append(file("base/\(service.name)/\(config.directory)/kustomization.yaml", Self.kustomization(resources: ["\(service.name)-config.yaml"])))
                files.append(file("base/\(service.name)/\(config.directory)/\(service.name)-config.yaml", configMap(of: service, config).rendered()))
            }
        }
        for volume in volumes(of: services) {
            files.append(file("base/volumes/\(volume.name)/kustomization.yaml", Self.kustomization(resources: ["\(volume.name).yaml"])))
            files.append(file("base/volumes/\(volume.name)/\(volume.name).yaml", claim(volume).rendered()))
        }
        for environment in deployment.environments {
            files += overlay(environment, services: services)
        }
        return files
    }

    /// The services this renderer writes: built from a stam image (one with a device of the host gets it from a
    /// device plugin, `deviceResource`), or wired by a component; the Patroni nodes as the one StatefulSet that
    /// replaces them, where the first of them was.
    var rendered: [ServiceDeclaration] {
        var placed: Set<String> = []
        return deployment.services.flatMap { service -> [ServiceDeclaration] in
            if let replacement = wiring.replacedServices[service.name] {
                guard placed.insert(replacement).inserted else { return [] }
                return wiring.addedServices.filter { $0.name == replacement }
            }
            guard wiring.unneeded[service.name] == nil else { return [] }
            if wiring.services[service.name] != nil { return [service] }
            guard let image = deployment.image(named: service.image.value), image.dockerfile != nil, image.template == .stam else { return [] }
            return [service]
        }
    }

    /// The services of the topology that have no Kubernetes objects yet, named in each overlay.
    var notRendered: [String] {
        let names = Set(rendered.map(\.name))
        return deployment.services.map(\.name).filter { !names.contains($0) && wiring.replacedServices[$0] == nil && wiring.unneeded[$0] == nil }
    }

    // MARK: Base

    enum Workload: String {
        case deployment = "Deployment", job = "Job", statefulSet = "StatefulSet"
    }

    func workload(of service: ServiceDeclaration) -> Workload {
        if service.restart == .no { return .job }
        if wiring.service(service.name).stateful { return .statefulSet }
        // Published ports on a service with several instances: each instance is an address of its own (a
        // communicator's primary and secondary receiver), so each needs a stable name and a Service of its own.
        if hasPublishedPorts(service), service.instances.writtenValues.contains(where: { $0 > 1 }) { return .statefulSet }
        return .deployment
    }

    func hasPublishedPorts(_ service: ServiceDeclaration) -> Bool { !publishedPorts(of: service).isEmpty }

    func baseObjects(of service: ServiceDeclaration) -> [YAMLTree] {
        var objects = [workloadObject(of: service)]
        if !service.ports.isEmpty, workload(of: service) != .job {
            objects.append(clusterService(of: service))
        }
        objects += wiring.service(service.name).objects
        if let budget = disruptionBudget(of: service) { objects.append(budget) }
        if workload(of: service) == .statefulSet, hasPublishedPorts(service) {
            let instances = service.instances.writtenValues.max() ?? 1
            objects += (0..<instances).map { publishedService(of: service, ordinal: $0) }
        }
        return objects
    }

    static func labels(_ service: ServiceDeclaration) -> YAMLTree { labelTree(labels(name: service.name)) }

    /// The labels that select a service's pods.
    static func labels(name: String) -> [(key: String, value: String)] {
        [("app.kubernetes.io/name", name), ("app.kubernetes.io/part-of", "stam")]
    }

    static func labelTree(_ labels: [(key: String, value: String)]) -> YAMLTree {
        .map(labels.map { .init(key: $0.key, value: .string($0.value)) })
    }

    /// The pod's labels: its name, and one label per network it is on (the NetworkPolicies' peers).
    func podLabels(_ service: ServiceDeclaration) -> YAMLTree {
        var entries: [YAMLTree.Entry] = [.init(key: "app.kubernetes.io/name", value: .string(service.name)),
                                         .init(key: "app.kubernetes.io/part-of", value: .string("stam"))]
        for network in service.networks {
            entries.append(.init(key: "stam.io/network-\(Self.dnsName(network.value))", value: .string("true")))
        }
        let wired = wiring.service(service.name)
        entries += wired.podLabels.map { .init(key: $0.key, value: .string($0.value)) }
        if wired.serviceAccount != nil { entries.append(.init(key: Self.apiClientLabel, value: .string("true"))) }
        return .map(entries)
    }

    func workloadObject(of service: ServiceDeclaration) -> YAMLTree {
        let kind = workload(of: service)
        var annotations: [YAMLTree.Entry] = []
        if let doc = service.doc { annotations.append(.init(key: "stam.io/doc", value: .string(doc))) }
        if let metrics = service.metrics, let port = service.port(named: metrics.port.value) {
            annotations.append(.init(key: "stam.io/metrics-port", value: .string(String(port))))
            annotations.append(.init(key: "stam.io/metrics-path", value: .string(metrics.path)))
        }
        let template = YAMLTree.object([
            "metadata": .object(["labels": podLabels(service), "annotations": annotations.isEmpty ? nil : .map(annotations)]),
            "spec": podSpec(of: service, kind: kind),
        ])
        let spec: YAMLTree = switch kind {
        case .job: .object(["backoffLimit": .int(0), "template": template])
        case .deployment: .object([
            "selector": .object(["matchLabels": Self.labels(service)]),
            // One device, one pod: the old pod lets go of it before the new one starts.
            "strategy": usesDevices(service) ? .object(["type": .string("Recreate")]) : nil,
            "template": template,
        ])
        case .statefulSet: .object([
            "serviceName": .string(wiring.service(service.name).governingService ?? service.name), "podManagementPolicy": .string("Parallel"),
            "selector": .object(["matchLabels": Self.labels(service)]), "template": template,
            "volumeClaimTemplates": claimTemplates(of: service).isEmpty ? nil : .list(claimTemplates(of: service)),
        ])
        }
        return .object([
            "apiVersion": .string(kind == .job ? "batch/v1" : "apps/v1"),
            "kind": .string(kind.rawValue),
            "metadata": .object(["name": .string(service.name), "labels": Self.labels(service), "annotations": waivers(of: service)]),
            "spec": spec,
        ])
    }

    /// checkov's checks the generated files cannot pass, each with its reason (`checkov.io/skipN`).
    func waivers(of service: ServiceDeclaration) -> YAMLTree {
        var reasons = isBuilt(service) ? [
            "CKV_K8S_14=The image is the project's own build; the release sets its tag in the overlay (kustomize edit set image), as update.sh does for compose.",
            "CKV_K8S_43=The image is the project's own build, pushed at release; its digest is known only then and goes in the overlay's images: (kustomize edit set image name@sha256:...).",
        ] : [
            "CKV_K8S_43=\(service.image.value) is pinned by its tag in schema/deployment.yaml, as compose pulls it; a site that mirrors images sets the digest in the overlay's images:.",
        ]
        let wired = wiring.service(service.name)
        reasons += wired.waivers
        if let reason = wired.userWaiver { reasons.append(reason) }
        if service.health == nil {
            let reason = "\(service.name) declares no health check in schema/deployment.yaml (a development simulator); a check added there becomes its probes."
            reasons += ["CKV_K8S_8=\(reason)", "CKV_K8S_9=\(reason)"]
        }
        return .map(reasons.enumerated().map { .init(key: "checkov.io/skip\($0.offset + 1)", value: .string($0.element)) })
    }

    func isBuilt(_ service: ServiceDeclaration) -> Bool { deployment.image(named: service.image.value)?.dockerfile != nil }

    func podSpec(of service: ServiceDeclaration, kind: Workload) -> YAMLTree {
        let wired = wiring.service(service.name)
        let uid = YAMLTree.int(wired.user ?? DockerfileRenderer.stamUID)
        var volumes: [YAMLTree] = [.object(["name": .string("tmp"), "emptyDir": .object([:])])]
        var mounts: [YAMLTree] = [.object(["name": .string("tmp"), "mountPath": .string("/tmp")])]
        for (index, directory) in wired.writableDirectories.enumerated() {
            volumes.append(.object(["name": .string("run-\(index + 1)"), "emptyDir": .object([:])]))
            mounts.append(.object(["name": .string("run-\(index + 1)"), "mountPath": .string(directory)]))
        }
        if let directory = wired.configDirectory, let config = wired.configs.first {
            volumes.append(.object(["name": .string("config"), "configMap": .object([
                "name": .string("\(service.name)-config"),
                "items": .list(config.files.map { .object(["key": .string($0.name), "path": .string($0.name)]) }),
            ])]))
            if wired.configFilesAlone {
                mounts += config.files.map { .object(["name": .string("config"), "mountPath": .string("\(directory)/\($0.name)"),
                                                      "subPath": .string($0.name), "readOnly": .bool(true)]) }
            } else {
                mounts.append(.object(["name": .string("config"), "mountPath": .string(directory), "readOnly": .bool(true)]))
            }
        }
        if !service.secrets.isEmpty {
            let sources: [YAMLTree] = service.secrets.map { secret in
                .object(["secret": .object([
                    "name": .string(Self.dnsName(secret.value)),
                    "items": .list([.object(["key": .string(secret.value), "path": .string(secret.value)])]),
                ])])
            }
            // 0440: read by the group the pod's fsGroup gives the files, the image's user.
            volumes.append(.object(["name": .string("secrets"), "projected": .object(["defaultMode": .int(0o440), "sources": .list(sources)])]))
            mounts.append(.object(["name": .string("secrets"), "mountPath": .string(Self.secretsMountPath), "readOnly": .bool(true)]))
        }
        for volume in service.volumes {
            let (name, path) = Self.split(volume.value)
            guard !wired.leftOutVolumes.contains(name) else { continue }
            // A StatefulSet's volumes are its claim templates, mounted by the same name.
            if !wired.stateful {
                volumes.append(.object(["name": .string(Self.dnsName(name)), "persistentVolumeClaim": .object(["claimName": .string(Self.dnsName(name))])]))
            }
            mounts.append(.object(["name": .string(Self.dnsName(name)), "mountPath": .string(path)]))
        }
        var ports: [YAMLTree] = service.ports.map { port in
            .object(["name": .string(port.name.value), "containerPort": .int(port.number), "protocol": .string("TCP")])
        }
        for published in publishedPorts(of: service) where published.transport == .udp {
            if let port = service.ports.first(where: { $0.number == published.number }) {
                ports.append(.object(["name": .string("\(port.name.value)-udp"), "containerPort": .int(port.number), "protocol": .string("UDP")]))
            }
        }
        var env: [YAMLTree] = wired.environment
        if kind == .statefulSet, hasPublishedPorts(service) {
            // The instance's name in what it stores (`STAM_INSTANCE`): the pod's, stable across restarts.
            env.append(.object(["name": .string("STAM_INSTANCE"),
                                "valueFrom": .object(["fieldRef": .object(["fieldPath": .string("metadata.name")])])]))
        }
        let securityContext = YAMLTree.object([
            "allowPrivilegeEscalation": .bool(false), "readOnlyRootFilesystem": .bool(true), "runAsNonRoot": .bool(true),
            "capabilities": .object(["drop": .list([.string("ALL")])]),
        ])
        // A fixed small share: it copies a file and exits.
        let initAmounts = YAMLTree.object(["cpu": .string("100m"), "memory": .string("64Mi")])
        let initContainer: YAMLTree? = wired.initCommand.map { command in
            .object([
                "name": .string("init"), "image": .string(service.image.value), "imagePullPolicy": .string("Always"),
                "command": .list(command.map(YAMLTree.string)),
                "resources": .object(["requests": initAmounts, "limits": initAmounts]),
                "securityContext": securityContext, "volumeMounts": .list(mounts),
            ])
        }
        let container = YAMLTree.object([
            "name": .string(service.name),
            "image": .string(service.image.value),
            "imagePullPolicy": .string("Always"),
            "command": wired.command.map { .list($0.map(YAMLTree.string)) },
            "args": wired.args.map { .list($0.map(YAMLTree.string)) },
            "env": env.isEmpty ? nil : .list(env),
            "ports": ports.isEmpty ? nil : .list(ports),
            "readinessProbe": service.health.map(probe),
            "livenessProbe": service.health.flatMap { liveness($0, of: service) },
            "securityContext": securityContext,
            "volumeMounts": .list(mounts),
        ])
        return .object([
            "serviceAccountName": wired.serviceAccount.map(YAMLTree.string),
            "automountServiceAccountToken": .bool(wired.serviceAccount != nil),
            "restartPolicy": kind == .job ? .string("Never") : nil,
            "terminationGracePeriodSeconds": service.stopGraceSeconds.map(YAMLTree.int),
            "securityContext": .object([
                "runAsNonRoot": .bool(true), "runAsUser": uid, "runAsGroup": uid, "fsGroup": uid,
                // Serial devices are root:dialout 0660 on the node (udev; dialout is gid 20 on Debian and Ubuntu),
                // as compose's group_add gives them.
                "supplementalGroups": usesDevices(service) ? .list([.int(Self.dialoutGID)]) : nil,
                "seccompProfile": .object(["type": .string("RuntimeDefault")]),
            ]),
            "topologySpreadConstraints": hasSeveralPods(service) ? .list([spread(service)]) : nil,
            "initContainers": initContainer.map { .list([$0]) },
            "containers": .list([container]),
            "volumes": .list(volumes),
        ])
    }

    /// The schema's health check as a probe: its interval, timeout and retries; its start period as the first
    /// check's delay.
    func probe(_ health: ServiceDeclaration.HealthCheck) -> YAMLTree {
        let action: (String, YAMLTree) = switch health.probe {
        case .http(let path, let port): ("httpGet", .object(["path": .string(path), "port": .int(port)]))
        case .tcp(let port): ("tcpSocket", .object(["port": .int(port)]))
        case .command(let line): ("exec", .object(["command": .list([.string("sh"), .string("-c"), .string(line)])]))
        case .exec(let arguments): ("exec", .object(["command": .list(arguments.map(YAMLTree.string))]))
        }
        return .map([
            .init(key: action.0, value: action.1),
            .init(key: "initialDelaySeconds", value: .int(health.startPeriodSeconds)),
            .init(key: "periodSeconds", value: .int(health.intervalSeconds)),
            .init(key: "timeoutSeconds", value: .int(health.timeoutSeconds)),
            .init(key: "failureThreshold", value: .int(health.retries)),
        ])
    }

    /// Liveness is the process answering at all (`/healthz` on the readiness check's port, which every stam
    /// command serves), never readiness: a database that is down must not restart every pod that waits for it.
    /// A component may name its own (Patroni's `/liveness`); a TCP check is its own liveness.
    func liveness(_ health: ServiceDeclaration.HealthCheck, of service: ServiceDeclaration) -> YAMLTree? {
        var check = health
        if let probe = wiring.service(service.name).liveness {
            check.probe = probe
        } else if case .http(_, let port) = health.probe, isBuilt(service), deployment.image(named: service.image.value)?.template == .stam {
            check.probe = .http(path: "/healthz", port: port)
        } else if case .tcp = health.probe {
        } else {
            return nil
        }
        return probe(check)
    }

    /// The service's Service; headless (and listing pods that are not ready yet) when its pods find each other by
    /// name, as Patroni's do for replication.
    func clusterService(of service: ServiceDeclaration) -> YAMLTree {
        let headless = wiring.service(service.name).headlessService
        return .object([
            "apiVersion": .string("v1"), "kind": .string("Service"),
            "metadata": .object(["name": .string(service.name), "labels": Self.labels(service)]),
            "spec": .object([
                "clusterIP": headless ? .string("None") : nil,
                "publishNotReadyAddresses": headless ? .bool(true) : nil,
                "selector": Self.labels(service),
                "ports": .list(service.ports.map { port in
                    .object(["name": .string(port.name.value), "port": .int(port.number), "targetPort": .string(port.name.value), "protocol": .string("TCP")])
                }),
            ]),
        ])
    }

    func publishedPorts(of service: ServiceDeclaration) -> [PublishedPort] {
        guard let environment = deployment.environments.first(where: { $0.name == "prod" }) ?? deployment.environments.last else { return [] }
        return service.publish?.value(in: environment.name) ?? []
    }

    /// One LoadBalancer per instance (`<service>-<ordinal + 1>`, the compose instance's name): the address a
    /// communicator is given. `externalTrafficPolicy: Local` keeps the sender's address, which the receiver records.
    func publishedService(of service: ServiceDeclaration, ordinal: Int) -> YAMLTree {
        .object([
            "apiVersion": .string("v1"), "kind": .string("Service"),
            "metadata": .object(["name": .string("\(service.name)-\(ordinal + 1)"), "labels": Self.labels(service)]),
            "spec": .object([
                "type": .string("LoadBalancer"),
                "externalTrafficPolicy": .string("Local"),
                "selector": .object(["statefulset.kubernetes.io/pod-name": .string("\(service.name)-\(ordinal)")]),
                "ports": .list(publishedPorts(of: service).map { published in
                    let name = service.ports.first { $0.number == published.number }?.name.value ?? "port-\(published.number)"
                    return .object([
                        "name": .string(published.transport == .udp ? "\(name)-udp" : name), "port": .int(published.number),
                        "targetPort": .int(published.number), "protocol": .string(published.transport.rawValue.uppercased()),
                    ])
                }),
            ]),
        ])
    }

    struct Volume { var name: String; var shared: Bool }

    /// Named volumes of the rendered services; shared (ReadWriteMany) when more than one pod mounts it.
    func volumes(of services: [ServiceDeclaration]) -> [Volume] {
        var mounts: [String: Int] = [:]
        var order: [String] = []
        for service in services where !wiring.service(service.name).stateful {
            for volume in service.volumes {
                let name = Self.split(volume.value).name
                guard !wiring.service(service.name).leftOutVolumes.contains(name) else { continue }
                if mounts[name] == nil { order.append(name) }
                mounts[name, default: 0] += service.instances.writtenValues.max() ?? 1
            }
        }
        return order.map { Volume(name: $0, shared: (mounts[$0] ?? 0) > 1) }
    }

    /// A StatefulSet's claim per pod for each of its volumes.
    func claimTemplates(of service: ServiceDeclaration) -> [YAMLTree] {
        guard wiring.service(service.name).stateful else { return [] }
        return service.volumes.map { Self.split($0.value).name }.filter { !wiring.service(service.name).leftOutVolumes.contains($0) }.map { name in
            .object([
                "metadata": .object(["name": .string(Self.dnsName(name))]),
                "spec": .object([
                    "accessModes": .list([.string("ReadWriteOnce")]),
                    "resources": .object(["requests": .object(["storage": .string("10Gi")])]),
                ]),
            ])
        }
    }

    /// A component's configuration files for a group of environments.
    func configMap(of service: ServiceDeclaration, _ config: KubernetesWiring.Config) -> YAMLTree {
        .object([
            "apiVersion": .string("v1"), "kind": .string("ConfigMap"),
            "metadata": .object(["name": .string("\(service.name)-config"), "labels": Self.labels(service),
                                 "annotations": .object(["stam.io/environments": .string(config.environments.joined(separator: ", "))])]),
            "data": .map(config.files.map { .init(key: $0.name, value: .text($0.contents)) }),
        ])
    }

    /// A ServiceAccount with a namespaced Role of `rules` (never a ClusterRole) and its binding, all named `name`.
    static func serviceAccount(_ name: String, rules: [(resources: [String], verbs: [String])]) -> [YAMLTree] {
        let labels = labelTree(labels(name: name))
        return [
            .object([
                "apiVersion": .string("v1"), "kind": .string("ServiceAccount"),
                "metadata": .object(["name": .string(name), "labels": labels]),
                "automountServiceAccountToken": .bool(false),
            ]),
            .object([
                "apiVersion": .string("rbac.authorization.k8s.io/v1"), "kind": .string("Role"),
                "metadata": .object(["name": .string(name), "labels": labels]),
                "rules": .list(rules.map { rule in
                    .object(["apiGroups": .list([.string("")]), "resources": .list(rule.resources.map(YAMLTree.string)),
                             "verbs": .list(rule.verbs.map(YAMLTree.string))])
                }),
            ]),
            .object([
                "apiVersion": .string("rbac.authorization.k8s.io/v1"), "kind": .string("RoleBinding"),
                "metadata": .object(["name": .string(name), "labels": labels]),
                "roleRef": .object(["apiGroup": .string("rbac.authorization.k8s.io"), "kind": .string("Role"), "name": .string(name)]),
                "subjects": .list([.object(["kind": .string("ServiceAccount"), "name": .string(name)])]),
            ]),
        ]
    }

    func claim(_ volume: Volume) -> YAMLTree {
        .object([
            "apiVersion": .string("v1"), "kind": .string("PersistentVolumeClaim"),
            "metadata": .object(["name": .string(Self.dnsName(volume.name)), "labels": .object(["app.kubernetes.io/part-of": .string("stam")])]),
            "spec": .object([
                "accessModes": .list([.string(volume.shared ? "ReadWriteMany" : "ReadWriteOnce")]),
                // A starting size: an overlay or the cluster's administrator sets the site's.
                "resources": .object(["requests": .object(["storage": .string("10Gi")])]),
            ]),
        ])
    }

    // MARK: Overlays

    func overlay(_ environment: EnvironmentDeclaration, services: [ServiceDeclaration]) -> [GeneratedFile] {
        let env = environment.name
        let running = services.filter { $0.runs(in: env) }
        var files: [GeneratedFile] = []
        var resources = running.map { "../../base/\($0.name)" }
        for service in running {
            resources += wiring.service(service.name).configs.filter { $0.environments.contains(env) }.map { "../../base/\(service.name)/\($0.directory)" }
        }
        resources += volumes(of: running).map { "../../base/volumes/\($0.name)" }
        for service in running {
            files.append(file("overlays/\(env)/\(service.name).yaml", patch(of: service, in: env).rendered()))
        }
        let images = Set(running.filter(isBuilt).map(\.image.value)).sorted().map { image -> YAMLTree in
            let (name, tag) = imageReference(image, environment: env)
            return .object(["name": .string(image), "newName": .string(name), "newTag": .string(tag)])
        }
        let ingress = KubernetesIngress(schema: schema, renderedServices: Set(services.map(\.name)))
        let ingresses = ingress.ingresses(in: env)
        if !ingresses.isEmpty {
            files.append(file("overlays/\(env)/ingress.yaml", YAMLTree.documents(ingresses)))
            resources.append("ingress.yaml")
        }
        if let autoscaler = ingress.autoscaler(in: env), running.contains(where: { $0.name == ingress.autoscaled(in: env) }) {
            files.append(file("overlays/\(env)/autoscaling.yaml", autoscaler.rendered()))
            resources.append("autoscaling.yaml")
        }
        let policies = networkPolicies(for: running, in: environment)
        if !policies.isEmpty {
            files.append(file("overlays/\(env)/network-policies.yaml", YAMLTree.documents(policies)))
            resources.append("network-policies.yaml")
        }
        let kustomization = YAMLTree.object([
            "apiVersion": .string("kustomize.config.k8s.io/v1beta1"), "kind": .string("Kustomization"),
            "namespace": .string(Self.namespace(of: env)),
            "labels": .list([.object(["pairs": .object(["stam.io/environment": .string(env)])])]),
            "resources": .list(resources.map(YAMLTree.string)),
            "patches": running.isEmpty ? nil : .list(running.map { .object(["path": .string("\($0.name).yaml")]) }),
            "images": images.isEmpty ? nil : .list(images),
        ])
        let pending = notRendered.filter { name in deployment.service(named: name)?.runs(in: env) == true }
        var note = pending.isEmpty ? "" : "# Not rendered for Kubernetes yet (docs/DEPLOYMENT.md): \(pending.joined(separator: ", ")).\n"
        for (name, reason) in wiring.unneeded.sorted(by: { $0.key < $1.key }) where deployment.service(named: name)?.runs(in: env) == true {
            note += "# Not needed on Kubernetes: \(name) (\(reason)).\n"
        }
        if !ingresses.isEmpty, !ingress.unroutedPaths.isEmpty {
            note += "# Not routed by the Ingress yet (their services are not rendered): \(ingress.unroutedPaths.joined(separator: ", ")).\n"
        }
        files.append(file("overlays/\(env)/kustomization.yaml", note + kustomization.rendered()))
        return files
    }

    /// The image as the overlay names it: built images from the registry compose uses by default, tagged as there.
    func imageReference(_ image: String, environment: String) -> (name: String, tag: String) {
        deployment.baseEnvironment(of: environment) == "prod" ? ("localhost:5000/\(image)", "latest") : (image, environment)
    }

    /// What differs by environment, as a strategic merge patch: replicas, the command (as `args`: the image's
    /// entrypoint stays), the variables and the resources (requests = limits).
    func patch(of service: ServiceDeclaration, in environment: String) -> YAMLTree {
        let kind = workload(of: service)
        let env: [YAMLTree] = service.environment.compactMap { variable in
            variable.value.value(in: environment).map { .object(["name": .string(variable.name.value), "value": .string($0)]) }
        }
        let devices = service.devices?.value(in: environment) ?? []
        let resources: YAMLTree? = service.resources?.value(in: environment).map { resources in
            var amounts: [YAMLTree.Entry] = [.init(key: "cpu", value: .string(resources.cpus)),
                                             .init(key: "memory", value: .string(Self.mebibytes(resources.memoryBytes)))]
            // The host's device, from the node whose device plugin offers it: the scheduler puts the pod there.
            if !devices.isEmpty { amounts.append(.init(key: deviceResource(of: service), value: .string(String(devices.count)))) }
            return .object(["requests": .map(amounts), "limits": .map(amounts)])
        }
        let container = YAMLTree.object([
            "name": .string(service.name),
            "args": service.command?.value(in: environment).map { .list($0.map(YAMLTree.string)) },
            "env": env.isEmpty ? nil : .list(env),
            "resources": resources,
        ])
        // The checksum of the environment's configuration files: a changed file changes the pod template, so the
        // pods restart with it (a ConfigMap change alone restarts nothing, and a subPath mount never sees it).
        let configs = wiring.service(service.name).configs.filter { $0.environments.contains(environment) }
        let checksum: YAMLTree? = configs.isEmpty ? nil : .object(["stam.io/config-sha256": .string(MigrationFile.checksum(
            of: configs.flatMap(\.files).map { "\($0.name)\u{0}\($0.contents)" }.joined(separator: "\u{0}")))])
        var annotations: [YAMLTree.Entry] = []
        if case .map(let entries)? = checksum { annotations += entries }
        if !devices.isEmpty { annotations.append(.init(key: "stam.io/device-plugin", value: .string(devicePluginArgument(of: service, devices: devices)))) }
        let template = YAMLTree.object([
            "metadata": annotations.isEmpty ? nil : .object(["annotations": .map(annotations)]),
            "spec": .object(["containers": .list([container])]),
        ])
        return .object([
            "apiVersion": .string(kind == .job ? "batch/v1" : "apps/v1"),
            "kind": .string(kind.rawValue),
            "metadata": .object(["name": .string(service.name)]),
            "spec": .object([
                // The autoscaler owns the replicas of the service it scales (from `instances` up).
                "replicas": kind == .job || KubernetesIngress(schema: schema).autoscaled(in: environment) == service.name
                    ? nil : .int(service.instances.value(in: environment) ?? 1),
                "template": template,
            ]),
        ])
    }

    // MARK: Devices

    static let dialoutGID = 20

    func usesDevices(_ service: ServiceDeclaration) -> Bool {
        service.devices?.writtenValues.contains { !$0.isEmpty } ?? false
    }

    /// The extended resource a node's generic-device-plugin (github.com/squat/generic-device-plugin) offers for the
    /// service's devices: only the node with the modem has it.
    func deviceResource(of service: ServiceDeclaration) -> String { "squat.ai/\(Self.dnsName(service.name))" }

    /// The plugin's `--device` argument that offers the devices as `deviceResource`, each at the path the service
    /// uses (compose's `host:container`; a host path `${VARIABLE:-default}` is its default).
    func devicePluginArgument(of service: ServiceDeclaration, devices: [String]) -> String {
        let paths = devices.map { device -> String in
            let split = device.lastIndex(of: ":").map { (String(device[..<$0]), String(device[device.index(after: $0)...])) } ?? (device, device)
            var host = split.0
            if host.hasPrefix("${"), host.hasSuffix("}"), let range = host.range(of: ":-") {
                host = String(host[range.upperBound..<host.index(before: host.endIndex)])
            }
            return "{\"path\": \(TemplateValues.quoted(host)), \"mountPath\": \(TemplateValues.quoted(split.1))}"
        }
        return "{\"name\": \(TemplateValues.quoted(Self.dnsName(service.name))), \"groups\": [{\"paths\": [\(paths.joined(separator: ", "))]}]}"
    }

    // MARK: Helpers

    static func kustomization(resources: [String]) -> String {
        YAMLTree.object([
            "apiVersion": .string("kustomize.config.k8s.io/v1beta1"), "kind": .string("Kustomization"),
            "resources": .list(resources.map(YAMLTree.string)),
        ]).rendered()
    }

    /// The namespace of an environment's overlay.
    static func namespace(of environment: String) -> String { "stam-\(dnsName(environment))" }

    /// A Kubernetes object name: lower case, `-` for `_`.
    static func dnsName(_ name: String) -> String { name.lowercased().replacingOccurrences(of: "_", with: "-") }

    /// `media:/var/lib/stam/media` -> (media, /var/lib/stam/media).
    static func split(_ volume: String) -> (name: String, path: String) {
        let parts = volume.split(separator: ":", maxSplits: 1).map(String.init)
        return (parts[0], parts.count > 1 ? parts[1] : "/data")
    }

    /// Kubernetes reads `1G` as 10^9 bytes, compose as 2^30: the bytes the schema means, in Mi.
    static func mebibytes(_ bytes: Int) -> String { "\(bytes / (1024 * 1024))Mi" }

    func file(_ relative: String, _ body: String) -> GeneratedFile {
        DeploymentRenderer.hashFile("\(Self.directory)/\(relative)", body)
    }
}
