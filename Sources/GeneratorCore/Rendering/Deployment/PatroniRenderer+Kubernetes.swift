import Foundation

/// Patroni on Kubernetes (docs/KUBERNETES-DESIGN.md section 2): the nodes become the pods of one StatefulSet `pg`,
/// and Patroni's Kubernetes DCS replaces etcd. The leader key and the primary's address are the Endpoints of the
/// selectorless Service `<scope>` (PgBouncer's target); `<scope>-config` is rendered here so Patroni needs no
/// right on Services; `pg-primary`/`pg-replica` select pods by the role label Patroni sets, so every database URL
/// of the schema keeps working.
extension PatroniRenderer: KubernetesComponent {
    static let kubernetesPods = "pg"
    static let kubernetesPortName = "postgresql"
    static let roleLabel = "role"
    static let leaderLabelValue = "primary"
    static let followerLabelValue = "replica"
    static let scopeLabel = "cluster-name"
    /// The postgres user of the postgres image; initdb needs the uid to have a passwd entry.
    static let postgresUID = 999

    func wire(into wiring: inout KubernetesWiring) {
        let deployment = schema.deployment
        guard let postgres = deployment.postgres, let patroni = postgres.patroni else { return }
        let nodes = patroni.nodes.compactMap { deployment.service(named: $0.value) }
        guard let first = nodes.first, let script = scriptView(postgres, patroni) else { return }
        let name = Self.kubernetesPods
        let postgresPort = first.port(named: "postgres") ?? 5432
        let restPort = first.port(named: "patroni") ?? 8008

        // The pods: the first node's image, ports, command, resources and networks, one replica per node that runs.
        var pods = first
        pods.name = name
        pods.doc = "PostgreSQL with Patroni (Kubernetes DCS): the nodes \(nodes.map(\.name).joined(separator: ", ")) as one StatefulSet."
        var counts: [String: Int] = [:]
        for environment in deployment.environments.map(\.name) {
            counts[environment] = nodes.filter { $0.runs(in: environment) }.count
        }
        pods.instances = PerEnvironment(common: nil, overrides: counts, location: first.instances.location)
        let unused = Set([patroni.dcsTLS?.ca.value, patroni.dcsTLS?.certificate.value, patroni.dcsTLS?.key.value,
                          postgres.pgbouncer?.adminPassword.value].compactMap { $0 })
        pods.secrets = first.secrets.filter { !unused.contains($0.value) }
        pods.volumes = [Located("pgdata:\((Self.dataDirectory as NSString).deletingLastPathComponent)", at: first.location)]
        pods.dependsOn = nil
        wiring.add(pods, replacing: nodes.map(\.name))
        wiring.leaveOut(patroni.dcs.service.value,
                        because: "Patroni keeps its leader key in the Kubernetes API, in the Endpoints of Service \(patroni.scope)")

        let environments = deployment.environments.map(\.name).filter { pods.runs(in: $0) }
        let entrypoint = templates.render("patroni-kubernetes-entrypoint.sh",
                                          { var view = script; view.secrets = pods.secrets.map(\.value); return view }())
        let groups = EnvironmentFiles.group(environments, path: { $0 ?? "" }) { environment, label in
            var view = view(of: first, in: environment, label: label, postgres, patroni)
            view.node = name
            view.kubernetes = KubernetesDCS(
                labels: KubernetesRenderer.labels(name: name).map { Parameter(name: $0.key, value: $0.value) },
                scopeLabel: Self.scopeLabel, roleLabel: Self.roleLabel, leaderLabelValue: Self.leaderLabelValue,
                followerLabelValue: Self.followerLabelValue, portName: Self.kubernetesPortName, port: postgresPort)
            return templates.render("patroni.yml", view)
        }
        let selector = KubernetesRenderer.labels(name: name) + [(Self.scopeLabel, patroni.scope)]
        wiring.wire(name) { pod in
            pod.configDirectory = (Self.configPath as NSString).deletingLastPathComponent
            pod.configs = KubernetesWiring.configs(groups.map { ($0.environments, [("patroni.yml", $0.contents), ("entrypoint.sh", entrypoint)]) })
            pod.command = ["sh", "\(pod.configDirectory ?? "")/entrypoint.sh"]
            pod.writableDirectories = [Self.privateSecrets, "/var/run/postgresql"]
            pod.stateful = true
            pod.user = Self.postgresUID
            pod.userWaiver = "CKV_K8S_40=PostgreSQL runs as the postgres user of the postgres image (uid 999): initdb refuses a uid without a passwd entry, and the root filesystem is read-only."
            pod.liveness = .http(path: "/liveness", port: restPort)
            pod.podLabels = [(Self.scopeLabel, patroni.scope)]
            pod.serviceAccount = name
            pod.headlessService = true
            pod.waivers = ["CKV_K8S_38=Patroni keeps the leader key in the Endpoints of Service \(patroni.scope) through the Kubernetes API (its DCS), so the pod needs its service account token; the Role allows only endpoints and pods in this namespace."]
            pod.environment = Self.podEnvironment(restPort: restPort, postgresPort: postgresPort, home: script.postgresHome)
            pod.objects = Self.services(scope: patroni.scope, nodes: nodes, selector: selector, postgresPort: postgresPort)
                + KubernetesRenderer.serviceAccount(name, rules: [
                    (resources: ["endpoints"], verbs: ["get", "list", "watch", "create", "update", "patch"]),
                    (resources: ["pods"], verbs: ["get", "list", "watch", "update", "patch"]),
                ])
        }
    }

    /// The pod's name and addresses for Patroni (by name: replication verifies host names, `<pod>.pg`).
    static func podEnvironment(restPort: Int, postgresPort: Int, home: String) -> [YAMLTree] {
        func field(_ name: String, _ path: String) -> YAMLTree {
            .object(["name": .string(name), "valueFrom": .object(["fieldRef": .object(["fieldPath": .string(path)])])])
        }
        func value(_ name: String, _ value: String) -> YAMLTree { .object(["name": .string(name), "value": .string(value)]) }
        return [
            field("PATRONI_NAME", "metadata.name"),
            field("PATRONI_KUBERNETES_NAMESPACE", "metadata.namespace"),
            field("PATRONI_KUBERNETES_POD_IP", "status.podIP"),
            value("PATRONI_RESTAPI_CONNECT_ADDRESS", "$(PATRONI_NAME).\(kubernetesPods):\(restPort)"),
            value("PATRONI_POSTGRESQL_CONNECT_ADDRESS", "$(PATRONI_NAME).\(kubernetesPods):\(postgresPort)"),
            // libpq looks for client certificates under $HOME/.postgresql.
            value("HOME", home),
        ]
    }

    /// `<scope>` (no selector: Patroni writes its Endpoints), `<scope>-config` (headless, so Patroni's config
    /// Endpoints are kept without Patroni creating the Service), and one Service per node name selecting by role:
    /// the first node's name the primary, the others a replica, each on the node's port in the schema.
    static func services(scope: String, nodes: [ServiceDeclaration], selector: [(key: String, value: String)], postgresPort: Int) -> [YAMLTree] {
        let labels = KubernetesRenderer.labelTree(KubernetesRenderer.labels(name: kubernetesPods))
        var services: [YAMLTree] = [
            .object([
                "apiVersion": .string("v1"), "kind": .string("Service"),
                "metadata": .object(["name": .string(scope), "labels": labels]),
                "spec": .object(["ports": .list([.object(["name": .string(kubernetesPortName), "port": .int(postgresPort), "protocol": .string("TCP")])])]),
            ]),
            .object([
                "apiVersion": .string("v1"), "kind": .string("Service"),
                "metadata": .object(["name": .string("\(scope)-config"), "labels": labels]),
                "spec": .object(["clusterIP": .string("None")]),
            ]),
        ]
        for (index, node) in nodes.enumerated() {
            let role = index == 0 ? leaderLabelValue : followerLabelValue
            services.append(.object([
                "apiVersion": .string("v1"), "kind": .string("Service"),
                "metadata": .object(["name": .string(node.name), "labels": labels]),
                "spec": .object([
                    "selector": KubernetesRenderer.labelTree(selector + [(roleLabel, role)]),
                    "ports": .list([.object(["name": .string("postgres"), "port": .int(node.port(named: "postgres") ?? postgresPort),
                                             "targetPort": .string("postgres"), "protocol": .string("TCP")])]),
                ]),
            ]))
        }
        return services
    }
}
