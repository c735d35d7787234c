import Foundation

/// RabbitMQ on Kubernetes (docs/KUBERNETES-DESIGN.md section 3): a StatefulSet of `kubernetesNodes` brokers that
/// find each other through the API (the k8s peer discovery plugin, by host name in the headless Service
/// `rabbitmq-nodes`), share the Erlang cookie from a secret, and declare the quorum queues on every node.
extension RabbitMQRenderer: KubernetesComponent {
    /// Three brokers wherever the broker runs: a quorum queue keeps its messages through the loss of one.
    static let kubernetesNodes = 3
    static let nodesService = "rabbitmq-nodes"
    static let kubernetesDefinitionsDirectory = "/run/rabbitmq/definitions"
    static let cookiePath = "/var/lib/rabbitmq/.erlang.cookie"
    /// The rabbitmq user of the image, which owns its files.
    static let rabbitmqUID = 999

    func wire(into wiring: inout KubernetesWiring) {
        let deployment = schema.deployment
        guard let settings = deployment.rabbitmq, let service = deployment.service(named: settings.service.value),
              let cookie = settings.erlangCookie?.value else { return }
        let environments = environments()
        guard !environments.isEmpty else { return }
        var brokers = service
        brokers.instances = PerEnvironment(common: nil, overrides: Dictionary(uniqueKeysWithValues: environments.map { ($0, Self.kubernetesNodes) }),
                                           location: service.instances.location)
        wiring.add(brokers, replacing: [service.name])

        let directory = "/etc/rabbitmq"
        let topology = "\(directory)/10-topology.json"
        var entrypoint = entrypointView(settings)
        entrypoint.definitionsDirectory = Self.kubernetesDefinitionsDirectory
        entrypoint.kubernetesTopology = topology
        let shared: [(name: String, contents: String)] = [
            ("enabled_plugins", "[rabbitmq_management,rabbitmq_peer_discovery_k8s,rabbitmq_prometheus].\n"),
            ((topology as NSString).lastPathComponent, templates.render("rabbitmq-definitions.json", definitions(settings, initialGroupSize: Self.kubernetesNodes))),
            ("stam-entrypoint.sh", templates.render("rabbitmq-entrypoint.sh", entrypoint)),
        ]
        // rabbitmq.conf names the namespace (the nodes' host names), so each environment has its own.
        let groups = EnvironmentFiles.group(environments, path: { $0 ?? "" }) { environment, label in
            var view = configView(service, in: environment, label: label)
            view.definitionsDirectory = Self.kubernetesDefinitionsDirectory
            view.kubernetes = PeerDiscovery(serviceName: Self.nodesService,
                                            hostnameSuffix: ".\(Self.nodesService).\(KubernetesRenderer.namespace(of: environment)).svc.cluster.local")
            return templates.render("rabbitmq.conf", view)
        }
        let cookieFile = "\(KubernetesRenderer.secretsMountPath)/\(cookie)"
        let selector = KubernetesRenderer.labels(name: service.name)
        wiring.wire(service.name) { pod in
            pod.configDirectory = directory
            pod.configFilesAlone = true
            pod.configs = KubernetesWiring.configs(groups.map { ($0.environments, [("rabbitmq.conf", $0.contents)] + shared) })
            pod.command = ["sh", "\(directory)/stam-entrypoint.sh"]
            pod.args = ["rabbitmq-server"]
            pod.writableDirectories = [(Self.kubernetesDefinitionsDirectory as NSString).deletingLastPathComponent, "/var/log/rabbitmq"]
            pod.stateful = true
            pod.user = Self.rabbitmqUID
            pod.userWaiver = "CKV_K8S_40=RabbitMQ runs as the rabbitmq user of its image (uid 999), which owns the image's files and the Erlang cookie it reads."
            pod.liveness = .exec(["rabbitmq-diagnostics", "-q", "ping"])
            pod.serviceAccount = service.name
            pod.governingService = Self.nodesService
            // The cookie must be the broker user's own file, 0400: a copy of the secret, not the secret's file.
            pod.initCommand = ["sh", "-c", "rm -f \(Self.cookiePath) && cp \(cookieFile) \(Self.cookiePath) && chmod 0400 \(Self.cookiePath)"]
            pod.waivers = ["CKV_K8S_38=RabbitMQ's k8s peer discovery reads the Endpoints of Service \(Self.nodesService) through the Kubernetes API, so the pod needs its service account token; the Role allows only that and creating events."]
            pod.environment = Self.nodeEnvironment
            pod.objects = [Self.nodesServiceObject(selector: selector)]
                + KubernetesRenderer.serviceAccount(service.name, rules: [
                    (resources: ["endpoints"], verbs: ["get"]),
                    (resources: ["events"], verbs: ["create"]),
                ])
        }
    }

    /// The node's name: its host name in the headless Service, as peer discovery (`address_type = hostname`) finds it.
    static let nodeEnvironment: [YAMLTree] = [
        .object(["name": .string("POD_NAME"), "valueFrom": .object(["fieldRef": .object(["fieldPath": .string("metadata.name")])])]),
        .object(["name": .string("POD_NAMESPACE"), "valueFrom": .object(["fieldRef": .object(["fieldPath": .string("metadata.namespace")])])]),
        .object(["name": .string("RABBITMQ_USE_LONGNAME"), "value": .string("true")]),
        .object(["name": .string("RABBITMQ_NODENAME"), "value": .string("rabbit@$(POD_NAME).\(nodesService).$(POD_NAMESPACE).svc.cluster.local")]),
        .object(["name": .string("HOME"), "value": .string("/var/lib/rabbitmq")]),
    ]

    /// The nodes' headless Service: Erlang distribution and epmd, listing pods before they are ready (a node
    /// must find its peers to become ready).
    static func nodesServiceObject(selector: [(key: String, value: String)]) -> YAMLTree {
        .object([
            "apiVersion": .string("v1"), "kind": .string("Service"),
            "metadata": .object(["name": .string(nodesService), "labels": KubernetesRenderer.labelTree(selector)]),
            "spec": .object([
                "clusterIP": .string("None"),
                "publishNotReadyAddresses": .bool(true),
                "selector": KubernetesRenderer.labelTree(selector),
                "ports": .list([
                    .object(["name": .string("epmd"), "port": .int(4369), "targetPort": .int(4369), "protocol": .string("TCP")]),
                    .object(["name": .string("cluster-links"), "port": .int(25672), "targetPort": .int(25672), "protocol": .string("TCP")]),
                ]),
            ]),
        ])
    }
}
