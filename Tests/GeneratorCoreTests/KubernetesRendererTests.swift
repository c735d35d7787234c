import Foundation
import Testing
import Yams
@testable import GeneratorCore

/// The Kubernetes overlays say what the compose files say: the same services with the same instances, commands,
/// variables and resources per environment, every secret a file at `/run/secrets/<name>` and never a value, and
/// every checkov waiver with its reason.
@Suite struct KubernetesRendererTests {
    let generator = StamGenerator(root: SchemaSnippet.projectRoot)

    func files() throws -> [String: String] {
        let rendered = try generator.render(generator.loadSchema()).filter { $0.path.hasPrefix("\(DeploymentRenderer.outputDirectory)/k8s/") }
        return Dictionary(uniqueKeysWithValues: rendered.map { ($0.path.replacingOccurrences(of: "\(DeploymentRenderer.outputDirectory)/k8s/", with: ""), $0.contents) })
    }

    func documents(_ text: String) throws -> [[String: Any]] {
        try Yams.load_all(yaml: text).compactMap { $0 as? [String: Any] }
    }

    struct Missing: Error { var path: String }

    /// The renderer as `generate` runs it: with what the components wire for Kubernetes.
    func renderer() throws -> KubernetesRenderer {
        let loaded = try generator.loadSchema()
        return DeploymentRenderer(schema: loaded.schema, templates: try #require(loaded.templates)).kubernetesRenderer
    }

    /// The object of `kind` named `name` among a file's documents.
    func object(_ documents: [[String: Any]], _ kind: String, _ name: String) throws -> [String: Any] {
        try #require(documents.first { $0["kind"] as? String == kind && ($0["metadata"] as? [String: Any])?["name"] as? String == name },
                     "no \(kind) \(name)")
    }

    /// A file in a ConfigMap of a rendered file.
    func configFile(_ files: [String: String], _ path: String, _ key: String) throws -> String {
        let map = try #require(try documents(files, path).first)
        return try #require((map["data"] as? [String: Any])?[key] as? String, "\(path): no \(key)")
    }

    /// The documents of a rendered file under k8s/.
    func documents(_ files: [String: String], _ path: String) throws -> [[String: Any]] {
        guard let text = files[path] else { throw Missing(path: path) }
        return try documents(text)
    }

    @Test func eachOverlayRunsTheServicesOfItsEnvironmentAsComposeDoes() throws {
        let schema = try generator.loadSchema().schema
        let files = try files()
        let renderer = try renderer()
        #expect(Set(renderer.rendered.map(\.name)).isSuperset(of: ["migrate", "backend", "outbox-relay", "satel-worker", "dc09-receiver",
                                                                   "pg", "pgbouncer", "redis"]))
        for environment in schema.deployment.environments.map(\.name) {
            let kustomization = try #require(try documents(files, "overlays/\(environment)/kustomization.yaml").first)
            let resources = Set(kustomization["resources"] as? [String] ?? [])
            for service in renderer.rendered {
                let listed = resources.contains("../../base/\(service.name)")
                #expect(listed == service.runs(in: environment), "\(environment): \(service.name)")
                guard listed else { continue }
                let patch = try #require(try documents(files, "overlays/\(environment)/\(service.name).yaml").first)
                let spec = try #require(patch["spec"] as? [String: Any])
                if KubernetesIngress(schema: schema).autoscaled(in: environment) == service.name {
                    #expect(spec["replicas"] == nil, "\(environment): \(service.name) is scaled by its autoscaler")
                } else if service.restart != .no {
                    #expect(spec["replicas"] as? Int == service.instances.value(in: environment), "\(environment): \(service.name)")
                }
                let template = try #require(spec["template"] as? [String: Any])
                let container = try #require(((template["spec"] as? [String: Any])?["containers"] as? [[String: Any]])?.first)
                #expect(container["args"] as? [String] == service.command?.value(in: environment), "\(environment): \(service.name)")
                let variables = (container["env"] as? [[String: Any]] ?? []).map { "\($0["name"] ?? "")=\($0["value"] ?? "")" }
                #expect(variables == service.environment.compactMap { variable in variable.value.value(in: environment).map { "\(variable.name.value)=\($0)" } })
                if let resources = service.resources?.value(in: environment) {
                    let limits = try #require((container["resources"] as? [String: Any])?["limits"] as? [String: Any])
                    #expect(limits["cpu"] as? String == resources.cpus)
                    // 1G in compose is 2^30 bytes; Kubernetes reads 1G as 10^9, so the overlay says Mi.
                    #expect(limits["memory"] as? String == "\(resources.memoryBytes / 1_048_576)Mi")
                }
            }
        }
    }

    @Test func secretsAreFilesReferencedByNameAndEveryWaiverHasAReason() throws {
        let files = try files()
        let renderer = try renderer()
        for text in files.values {
            #expect(!text.contains("secretKeyRef") && !text.contains("kind: \"Secret\""), "a secret as a value or an object")
        }
        for service in renderer.rendered {
            let objects = try documents(files, "base/\(service.name)/\(service.name).yaml")
            let workload = try #require(objects.first)
            let pod = try #require(((workload["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any])
            let volumes = pod["volumes"] as? [[String: Any]] ?? []
            let projected = volumes.first { $0["name"] as? String == "secrets" }?["projected"] as? [String: Any]
            let sources = (projected?["sources"] as? [[String: Any]] ?? []).compactMap { $0["secret"] as? [String: Any] }
            let files = sources.flatMap { source in (source["items"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String } }
            #expect(files == service.secrets.map(\.value), "\(service.name): the files under /run/secrets")
            #expect(sources.map { $0["name"] as? String } == service.secrets.map { $0.value.replacingOccurrences(of: "_", with: "-") })
            let container = try #require((pod["containers"] as? [[String: Any]])?.first)
            let context = try #require(container["securityContext"] as? [String: Any])
            #expect(context["allowPrivilegeEscalation"] as? Bool == false && context["readOnlyRootFilesystem"] as? Bool == true)
            let annotations = (workload["metadata"] as? [String: Any])?["annotations"] as? [String: String] ?? [:]
            for (key, value) in annotations where key.hasPrefix("checkov.io/skip") {
                // checkov splits the value at "=": one, then the reason.
                let parts = value.split(separator: "=", omittingEmptySubsequences: false)
                #expect(parts.count == 2 && parts[0].hasPrefix("CKV") && parts[1].count > 20, "\(service.name) \(key): \(value)")
            }
        }
    }

    @Test func aStringThatLooksLikeAnotherTypeStaysAString() throws {
        let tree = YAMLTree.object(["cpu": .string("1"), "on": .string("on"), "text": .string("a \"quoted\"\nline"), "port": .int(8000),
                                    "list": .list([.object(["name": .string("x"), "value": .string("0755")]), .string("y")]), "empty": .object([:])])
        let parsed = try #require(try Yams.load(yaml: tree.rendered()) as? [String: Any])
        #expect(parsed["cpu"] as? String == "1" && parsed["on"] as? String == "on" && parsed["port"] as? Int == 8000)
        #expect(parsed["text"] as? String == "a \"quoted\"\nline")
        let list = try #require(parsed["list"] as? [Any])
        #expect((list.first as? [String: Any])?["value"] as? String == "0755" && list.last as? String == "y")
        #expect((parsed["empty"] as? [String: Any])?.isEmpty == true)
    }

    // MARK: Data tier

    @Test func patroniIsOneStatefulSetWhoseLeaderServiceIsThePortPatroniWrites() throws {
        let schema = try generator.loadSchema().schema
        let patroni = try #require(schema.deployment.postgres?.patroni)
        let files = try files()
        let objects = try documents(files, "base/pg/pg.yaml")
        let config = try #require(try Yams.load(yaml: try configFile(files, "base/pg/config/pg-config.yaml", "patroni.yml")) as? [String: Any])
        #expect(config["etcd3"] == nil && config["name"] == nil, "one file for every pod, and no etcd")
        let dcs = try #require(config["kubernetes"] as? [String: Any])
        #expect(dcs["use_endpoints"] as? Bool == true && dcs["bypass_api_service"] as? Bool == false)
        let portName = try #require((dcs["ports"] as? [[String: Any]])?.first?["name"] as? String)

        // The leader Service: no selector (Patroni writes its Endpoints), its port named as Patroni names it.
        let leader = try object(objects, "Service", patroni.scope)
        let leaderSpec = try #require(leader["spec"] as? [String: Any])
        #expect(leaderSpec["selector"] == nil)
        #expect((leaderSpec["ports"] as? [[String: Any]])?.map { $0["name"] as? String } == [portName])
        let configService = try #require(try object(objects, "Service", "\(patroni.scope)-config")["spec"] as? [String: Any])
        #expect(configService["clusterIP"] as? String == "None" && configService["selector"] == nil)
        let headless = try #require(try object(objects, "Service", "pg")["spec"] as? [String: Any])
        #expect(headless["clusterIP"] as? String == "None" && headless["publishNotReadyAddresses"] as? Bool == true)

        // Patroni finds its pods by its labels and the scope label: the pods carry both.
        let set = try object(objects, "StatefulSet", "pg")
        let template = try #require((set["spec"] as? [String: Any])?["template"] as? [String: Any])
        let podLabels = try #require((template["metadata"] as? [String: Any])?["labels"] as? [String: String])
        for (key, value) in try #require(dcs["labels"] as? [String: String]) { #expect(podLabels[key] == value) }
        #expect(podLabels[try #require(dcs["scope_label"] as? String)] == patroni.scope)
        let pod = try #require(template["spec"] as? [String: Any])
        #expect(pod["serviceAccountName"] as? String == "pg" && pod["automountServiceAccountToken"] as? Bool == true)
        let annotations = try #require((set["metadata"] as? [String: Any])?["annotations"] as? [String: String])
        #expect(annotations.values.contains { $0.hasPrefix("CKV_K8S_38=") }, "the token Patroni needs is waived with its reason")
        let container = try #require((pod["containers"] as? [[String: Any]])?.first)
        let variables = Set((container["env"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String })
        #expect(variables.isSuperset(of: ["PATRONI_NAME", "PATRONI_KUBERNETES_NAMESPACE", "PATRONI_KUBERNETES_POD_IP",
                                          "PATRONI_RESTAPI_CONNECT_ADDRESS", "PATRONI_POSTGRESQL_CONNECT_ADDRESS"]))
        let secrets = (pod["volumes"] as? [[String: Any]] ?? []).compactMap { $0["projected"] as? [String: Any] }
            .flatMap { $0["sources"] as? [[String: Any]] ?? [] }.compactMap { ($0["secret"] as? [String: Any])?["name"] as? String }
        #expect(!secrets.contains { $0.hasPrefix("etcd-") }, "no etcd on Kubernetes: \(secrets)")

        // One pod per node, in each environment that runs them.
        for environment in schema.deployment.environments.map(\.name) {
            let nodes = patroni.nodes.filter { schema.deployment.service(named: $0.value)?.runs(in: environment) == true }.count
            guard nodes > 0 else { #expect(files["overlays/\(environment)/pg.yaml"] == nil); continue }
            let patch = try #require(try documents(files, "overlays/\(environment)/pg.yaml").first)
            #expect((patch["spec"] as? [String: Any])?["replicas"] as? Int == nodes, "\(environment)")
        }
    }

    @Test func patroniMayChangeOnlyEndpointsAndPodsInItsNamespace() throws {
        let objects = try documents(try files(), "base/pg/pg.yaml")
        #expect(!objects.contains { ($0["kind"] as? String)?.hasPrefix("Cluster") == true }, "a namespaced Role, never a ClusterRole")
        let role = try object(objects, "Role", "pg")
        var granted: [String: Set<String>] = [:]
        for rule in role["rules"] as? [[String: Any]] ?? [] {
            #expect(rule["apiGroups"] as? [String] == [""])
            for resource in rule["resources"] as? [String] ?? [] { granted[resource, default: []].formUnion(rule["verbs"] as? [String] ?? []) }
        }
        #expect(granted == ["endpoints": ["get", "list", "watch", "create", "update", "patch"], "pods": ["get", "list", "watch", "update", "patch"]])
        let binding = try object(objects, "RoleBinding", "pg")
        #expect((binding["roleRef"] as? [String: Any])?["kind"] as? String == "Role")
        #expect((binding["subjects"] as? [[String: Any]])?.map { $0["name"] as? String } == ["pg"])
    }

    /// The schema's database URLs name `pg-primary:5432`, `pg-replica:5433` and `pgbouncer:6432`: each is a Service
    /// of the overlay with that port, the role ones selecting the primary and the replicas by Patroni's role label.
    @Test func everyDatabaseURLOfTheSchemaNamesAServiceWithItsPort() throws {
        let schema = try generator.loadSchema().schema
        let files = try files()
        var services: [String: [String: Any]] = [:]
        for path in files.keys where path.hasPrefix("base/") && path.hasSuffix(".yaml") && !path.hasSuffix("kustomization.yaml") {
            for document in try documents(files, path) where document["kind"] as? String == "Service" {
                if let name = (document["metadata"] as? [String: Any])?["name"] as? String { services[name] = document["spec"] as? [String: Any] }
            }
        }
        var checked = 0
        for service in schema.deployment.services where service.runs(in: "prod") {
            for variable in service.environment where variable.name.value.hasPrefix("DATABASE_") {
                for url in (variable.value.value(in: "prod") ?? "").split(separator: ",") {
                    guard let components = URLComponents(string: String(url)), let host = components.host, let port = components.port else { continue }
                    let spec = try #require(services[host], "\(service.name) \(variable.name.value): no Service \(host)")
                    #expect((spec["ports"] as? [[String: Any]])?.contains { $0["port"] as? Int == port } == true, "\(host):\(port)")
                    checked += 1
                }
            }
        }
        #expect(checked > 5)
        #expect((services["pg-primary"]?["selector"] as? [String: String])?["role"] == "primary")
        #expect((services["pg-replica"]?["selector"] as? [String: String])?["role"] == "replica")
    }

    /// Replication connects to `<pod>.pg` and PgBouncer to the leader Service, both with verify-full: the
    /// certificate names them all.
    @Test func thePostgreSQLCertificateNamesThePodsAndTheLeaderService() throws {
        let schema = try generator.loadSchema().schema
        let patroni = try #require(schema.deployment.postgres?.patroni)
        guard case .tlsCertificate(_, _, let names) = schema.deployment.secret(named: patroni.tls.certificate.value)?.generator else {
            Issue.record("the PostgreSQL certificate is not generated"); return
        }
        let pods = patroni.nodes.indices.map { "pg-\($0).pg" }
        #expect(Set(names).isSuperset(of: pods + [patroni.scope]), "\(names)")
    }

    @Test func pgbouncerTargetsTheServicePatroniKeepsOnThePrimary() throws {
        let schema = try generator.loadSchema().schema
        let scope = try #require(schema.deployment.postgres?.patroni?.scope)
        let files = try files()
        let ini = try configFile(files, "base/pgbouncer/config/pgbouncer-config.yaml", "pgbouncer.ini")
        #expect(!ini.contains("%include"), "no target file written by a callback")
        #expect(ini.contains("[databases]\nstam = host=\(scope) port=5432 dbname=stam\n"), "\(ini)")
        let set = try object(try documents(files, "base/pgbouncer/pgbouncer.yaml"), "Deployment", "pgbouncer")
        let pod = try #require(((set["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any])
        let volumes = (pod["volumes"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(!volumes.contains("pgbouncer-target") && volumes.contains("config"), "\(volumes)")
        #expect((pod["securityContext"] as? [String: Any])?["runAsUser"] as? Int == 10001, "no root entrypoint")
    }

    @Test func redisRunsWithTheComposeConfigurationOfItsEnvironment() throws {
        let loaded = try generator.loadSchema()
        let files = try files()
        let redis = RedisRenderer(schema: loaded.schema, templates: try #require(loaded.templates))
        let set = try object(try documents(files, "base/redis/redis.yaml"), "StatefulSet", "redis")
        let spec = try #require(set["spec"] as? [String: Any])
        #expect((spec["volumeClaimTemplates"] as? [[String: Any]])?.compactMap { ($0["metadata"] as? [String: Any])?["name"] as? String } == ["redis-data"])
        let container = try #require((((spec["template"] as? [String: Any])?["spec"] as? [String: Any])?["containers"] as? [[String: Any]])?.first)
        #expect(container["args"] as? [String] == redis.command(try #require(loaded.schema.deployment.redis)), "the password as compose hands it over")
        for output in redis.outputs() {
            for environment in output.environments {
                let kustomization = try #require(try documents(files, "overlays/\(environment)/kustomization.yaml").first)
                let configs = (kustomization["resources"] as? [String] ?? []).filter { $0.hasPrefix("../../base/redis/config") }
                #expect(configs.count == 1, "\(environment): \(configs)")
                let path = try #require(configs.first).replacingOccurrences(of: "../../", with: "")
                #expect(try configFile(files, "\(path)/redis-config.yaml", "redis.conf") == output.contents, "\(environment)")
            }
        }
    }

    @Test func aMultiLineTextIsALiteralBlockThatReadsBackTheSame() throws {
        for text in ["a\n  b\n\nc\n", "no final newline", "# comment\n\tindented: 1\n", "  leading space\n", "two\n\n", "x \n   \ny\n"] {
            let parsed = try #require(try Yams.load(yaml: YAMLTree.object(["file": .text(text)]).rendered()) as? [String: Any])
            #expect(parsed["file"] as? String == text, "\(text.debugDescription)")
        }
        #expect(YAMLTree.object(["file": .text("a\nb\n")]).rendered() == "file: |\n  a\n  b\n")
    }

    // MARK: RabbitMQ

    @Test func rabbitmqIsThreeNodesThatFindEachOtherInTheirNamespace() throws {
        let schema = try generator.loadSchema().schema
        let settings = try #require(schema.deployment.rabbitmq)
        let broker = try #require(schema.deployment.service(named: settings.service.value))
        let files = try files()
        let objects = try documents(files, "base/rabbitmq/rabbitmq.yaml")
        let set = try object(objects, "StatefulSet", "rabbitmq")
        let spec = try #require(set["spec"] as? [String: Any])
        let nodes = try object(objects, "Service", try #require(spec["serviceName"] as? String))
        let nodesSpec = try #require(nodes["spec"] as? [String: Any])
        #expect(nodesSpec["clusterIP"] as? String == "None" && nodesSpec["publishNotReadyAddresses"] as? Bool == true)
        let budget = try object(objects, "PodDisruptionBudget", "rabbitmq")
        #expect((budget["spec"] as? [String: Any])?["maxUnavailable"] as? Int == 1, "a quorum of 2 of 3 stays up")
        let role = try object(objects, "Role", "rabbitmq")
        #expect((role["rules"] as? [[String: Any]])?.map { "\(($0["resources"] as? [String]) ?? []):\(($0["verbs"] as? [String]) ?? [])" }
                == ["[\"endpoints\"]:[\"get\"]", "[\"events\"]:[\"create\"]"])

        let pod = try #require((spec["template"] as? [String: Any])?["spec"] as? [String: Any])
        let container = try #require((pod["containers"] as? [[String: Any]])?.first)
        let variables = Dictionary(uniqueKeysWithValues: (container["env"] as? [[String: Any]] ?? []).compactMap { variable in
            (variable["name"] as? String).map { ($0, variable["value"] as? String ?? "") } })
        #expect(variables["RABBITMQ_NODENAME"] == "rabbit@$(POD_NAME).\(RabbitMQRenderer.nodesService).$(POD_NAMESPACE).svc.cluster.local")
        // The cookie: the secret's file copied before the broker starts, never a variable.
        let cookie = try #require(settings.erlangCookie?.value)
        #expect(broker.secrets.map(\.value).contains(cookie) && variables["RABBITMQ_ERLANG_COOKIE"] == nil)
        let initCommand = try #require((pod["initContainers"] as? [[String: Any]])?.first?["command"] as? [String])
        #expect(initCommand.joined(separator: " ").contains("cp /run/secrets/\(cookie) /var/lib/rabbitmq/.erlang.cookie"))

        for environment in schema.deployment.environments.map(\.name) where broker.runs(in: environment) {
            let kustomization = try #require(try documents(files, "overlays/\(environment)/kustomization.yaml").first)
            let namespace = try #require(kustomization["namespace"] as? String)
            let patch = try #require(try documents(files, "overlays/\(environment)/rabbitmq.yaml").first)
            let replicas = try #require((patch["spec"] as? [String: Any])?["replicas"] as? Int)
            #expect(replicas == 3, "\(environment)")
            let configs = (kustomization["resources"] as? [String] ?? []).filter { $0.hasPrefix("../../base/rabbitmq/config") }
            #expect(configs.count == 1, "\(environment): \(configs)")
            let path = try #require(configs.first).replacingOccurrences(of: "../../", with: "") + "/rabbitmq-config.yaml"
            let conf = try configFile(files, path, "rabbitmq.conf")
            #expect(conf.contains("cluster_formation.k8s.service_name = \(RabbitMQRenderer.nodesService)\n"))
            #expect(conf.contains("cluster_formation.k8s.hostname_suffix = .\(RabbitMQRenderer.nodesService).\(namespace).svc.cluster.local\n"),
                    "\(environment): the suffix names the overlay's namespace")
            #expect(try configFile(files, path, "enabled_plugins").contains("rabbitmq_peer_discovery_k8s"))
            let topology = try #require(try JSONSerialization.jsonObject(with: Data(try configFile(files, path, "10-topology.json").utf8)) as? [String: Any])
            let quorum = (topology["queues"] as? [[String: Any]] ?? []).compactMap { $0["arguments"] as? [String: Any] }
                .filter { $0["x-queue-type"] as? String == "quorum" }
            #expect(!quorum.isEmpty && quorum.allSatisfy { $0["x-quorum-initial-group-size"] as? Int == replicas }, "\(environment)")
        }
    }

    // MARK: Ingress, autoscaling, disruption budgets, spread

    @Test func theIngressesServeTheProxyRoutesOnTheEnvironmentsHost() throws {
        let schema = try generator.loadSchema().schema
        let proxy = try #require(schema.deployment.proxy)
        let nginx = try #require(schema.deployment.service(named: proxy.service.value))
        let files = try files()
        var checked = 0
        for environment in schema.deployment.environments.map(\.name) {
            guard nginx.runs(in: environment) else {
                #expect(files["overlays/\(environment)/ingress.yaml"] == nil, "\(environment) has no proxy")
                continue
            }
            let host = try #require(proxy.serverName.value(in: environment))
            let ingresses = try documents(files, "overlays/\(environment)/ingress.yaml").filter { $0["kind"] as? String == "Ingress" }
            let kustomization = try #require(try documents(files, "overlays/\(environment)/kustomization.yaml").first)
            #expect((kustomization["resources"] as? [String] ?? []).contains("ingress.yaml"))
            var paths: [String: (service: String, port: String, annotations: [String: String])] = [:]
            for ingress in ingresses {
                let spec = try #require(ingress["spec"] as? [String: Any])
                let annotations = (ingress["metadata"] as? [String: Any])?["annotations"] as? [String: String] ?? [:]
                #expect(spec["ingressClassName"] as? String == "nginx")
                let tls = try #require((spec["tls"] as? [[String: Any]])?.first)
                #expect(tls["hosts"] as? [String] == [host] && tls["secretName"] as? String == proxy.certificate.value.replacingOccurrences(of: "_", with: "-"))
                for rule in spec["rules"] as? [[String: Any]] ?? [] {
                    #expect(rule["host"] as? String == host, "\(environment): the environment's server_name")
                    for path in ((rule["http"] as? [String: Any])?["paths"] as? [[String: Any]]) ?? [] {
                        let backend = try #require((path["backend"] as? [String: Any])?["service"] as? [String: Any])
                        paths[try #require(path["path"] as? String)] = (backend["name"] as? String ?? "", (backend["port"] as? [String: Any])?["name"] as? String ?? "", annotations)
                    }
                }
            }
            let upstream = (proxy.upstream.service.value, proxy.upstream.port.value)
            #expect(paths["/"].map { "\($0.service):\($0.port)" } == "\(upstream.0):\(upstream.1)")
            // Every route to a service with Kubernetes objects; the others are named in the overlay's note.
            let rendered = Set(try renderer().rendered.map(\.name))
            let note = try #require(files["overlays/\(environment)/kustomization.yaml"])
            for route in proxy.routes {
                if rendered.contains(route.target.service.value) {
                    #expect(paths[route.path].map { "\($0.service):\($0.port)" } == "\(route.target.service.value):\(route.target.port.value)", "\(environment): \(route.path)")
                } else {
                    #expect(paths[route.path] == nil && note.contains("Not routed by the Ingress yet (their services are not rendered): \(route.path)"), "\(environment): \(route.path)")
                }
            }
            let websocket = try #require(paths[proxy.websocketPath])
            #expect(websocket.annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"] == String(proxy.websocketTimeoutSeconds))
            for path in proxy.loginLimit?.paths ?? [] {
                let login = try #require(paths[path], "\(environment): \(path)")
                #expect(login.annotations["nginx.ingress.kubernetes.io/limit-rpm"] != nil || login.annotations["nginx.ingress.kubernetes.io/limit-rps"] != nil)
            }
            // Sticky: every path to the upstream keeps a client on one backend (its WebSocket and its API calls).
            for (path, target) in paths where target.service == upstream.0 {
                #expect(target.annotations["nginx.ingress.kubernetes.io/affinity"] == "cookie", "\(environment): \(path)")
            }
            checked += 1
        }
        #expect(checked >= 2, "prod and stage")
    }

    /// The SMS agent gets the modem from the node whose generic-device-plugin offers it (the scheduler pins it
    /// there), one pod at a time, in the group the device belongs to; dev, which has no device, asks for none.
    @Test func theSMSAgentRunsOnceOnTheNodeWhoseDevicePluginOffersTheModem() throws {
        let schema = try generator.loadSchema().schema
        let files = try files()
        let agent = try #require(schema.deployment.service(named: "sms-agent"))
        let base = try object(try documents(files, "base/sms-agent/sms-agent.yaml"), "Deployment", "sms-agent")
        let spec = try #require(base["spec"] as? [String: Any])
        #expect((spec["strategy"] as? [String: Any])?["type"] as? String == "Recreate")
        let pod = try #require((spec["template"] as? [String: Any])?["spec"] as? [String: Any])
        #expect((pod["securityContext"] as? [String: Any])?["supplementalGroups"] as? [Int] == [KubernetesRenderer.dialoutGID])
        for environment in schema.deployment.environments.map(\.name) where agent.runs(in: environment) {
            let patch = try object(try documents(files, "overlays/\(environment)/sms-agent.yaml"), "Deployment", "sms-agent")
            let template = try #require((patch["spec"] as? [String: Any])?["template"] as? [String: Any])
            let container = try #require(((template["spec"] as? [String: Any])?["containers"] as? [[String: Any]])?.first)
            let resources = try #require(container["resources"] as? [String: [String: String]])
            let devices = agent.devices?.value(in: environment) ?? []
            #expect((patch["spec"] as? [String: Any])?["replicas"] as? Int == 1)
            let annotation = ((template["metadata"] as? [String: Any])?["annotations"] as? [String: String])?["stam.io/device-plugin"]
            if devices.isEmpty {
                #expect(resources["limits"]?["squat.ai/sms-agent"] == nil && annotation == nil, "\(environment)")
            } else {
                #expect(resources["limits"]?["squat.ai/sms-agent"] == "1" && resources["requests"]?["squat.ai/sms-agent"] == "1", "\(environment)")
                // The plugin's --device argument: the host's default device at the path the agent opens.
                let argument = try #require(annotation, "\(environment)")
                let parsed = try #require(try JSONSerialization.jsonObject(with: Data(argument.utf8)) as? [String: Any])
                let paths = (parsed["groups"] as? [[String: Any]])?.first?["paths"] as? [[String: String]]
                #expect(parsed["name"] as? String == "sms-agent" && paths == [["path": "/dev/ttyUSB0", "mountPath": "/dev/ttyUSB0"]], "\(argument)")
                #expect((container["args"] as? [String])?.contains("/dev/ttyUSB0") == true)
            }
        }
    }

    @Test func theUpstreamScalesFromItsInstancesUp() throws {
        let schema = try generator.loadSchema().schema
        let files = try files()
        let ingress = KubernetesIngress(schema: schema)
        for environment in schema.deployment.environments.map(\.name) {
            guard let name = ingress.autoscaled(in: environment), let service = schema.deployment.service(named: name) else {
                #expect(files["overlays/\(environment)/autoscaling.yaml"] == nil); continue
            }
            let autoscaler = try object(try documents(files, "overlays/\(environment)/autoscaling.yaml"), "HorizontalPodAutoscaler", name)
            let spec = try #require(autoscaler["spec"] as? [String: Any])
            let minimum = try #require(spec["minReplicas"] as? Int)
            #expect(minimum == service.instances.value(in: environment) && (spec["maxReplicas"] as? Int ?? 0) > minimum)
            #expect((spec["scaleTargetRef"] as? [String: Any])?["name"] as? String == name)
        }
    }

    @Test func everyWorkloadWithSeveralPodsHasABudgetAndSpreadsOverHosts() throws {
        let files = try files()
        let renderer = try renderer()
        var budgets = 0
        for service in renderer.rendered {
            let objects = try documents(files, "base/\(service.name)/\(service.name).yaml")
            let workload = try #require(objects.first)
            let spec = try #require(workload["spec"] as? [String: Any])
            let pod = try #require((spec["template"] as? [String: Any])?["spec"] as? [String: Any])
            let budget = objects.first { $0["kind"] as? String == "PodDisruptionBudget" }
            let spread = pod["topologySpreadConstraints"] as? [[String: Any]]
            let several = service.restart != .no && service.instances.writtenValues.contains { $0 > 1 }
            #expect((budget != nil) == several && (spread != nil) == several, "\(service.name)")
            guard several, let budget, let spread else { continue }
            let selector = (spec["selector"] as? [String: Any])?["matchLabels"] as? [String: String]
            let budgetSpec = try #require(budget["spec"] as? [String: Any])
            #expect(budgetSpec["maxUnavailable"] as? Int == 1)
            #expect((budgetSpec["selector"] as? [String: Any])?["matchLabels"] as? [String: String] == selector, "\(service.name)")
            #expect(spread.first?["topologyKey"] as? String == "kubernetes.io/hostname")
            #expect((spread.first?["labelSelector"] as? [String: Any])?["matchLabels"] as? [String: String] == selector)
            budgets += 1
        }
        #expect(budgets >= 5, "backend, outbox-relay, dc09-receiver, pg, rabbitmq")
    }

    /// The PostgreSQL pods accept connections only from pods of the networks compose puts them on (the data
    /// network: PgBouncer, the relays' LISTEN, the backends' reports, backups), never from outside the namespace
    /// or the cluster: every policy that selects them is read, as the NetworkPolicy API combines them.
    @Test func theDatabaseIsReachableOnlyFromThePodsOfItsNetworks() throws {
        let files = try files()
        let renderer = try renderer()
        func podLabels(_ service: String) throws -> [String: String] {
            let workload = try #require(try documents(files, "base/\(service)/\(service).yaml").first)
            return try #require(((((workload["spec"] as? [String: Any])?["template"] as? [String: Any])?["metadata"] as? [String: Any])?["labels"]) as? [String: String])
        }
        func selects(_ selector: [String: Any], _ labels: [String: String]) -> Bool {
            let match = (selector["matchLabels"] as? [String: String] ?? [:]).allSatisfy { labels[$0.key] == $0.value }
            let expressions = (selector["matchExpressions"] as? [[String: Any]] ?? []).allSatisfy { expression in
                expression["operator"] as? String == "In" && (expression["values"] as? [String] ?? []).contains(labels[expression["key"] as? String ?? ""] ?? "\u{0}")
            }
            return match && expressions
        }
        let database = try podLabels("pg")
        let pg = try #require(renderer.rendered.first { $0.name == "pg" })
        for environment in ["prod", "stage"] {
            var policies = try documents(files, "overlays/\(environment)/network-policies.yaml")
            policies += try documents(files, "overlays/\(environment)/ingress.yaml").filter { $0["kind"] as? String == "NetworkPolicy" }
            var peers: [[String: Any]] = []
            for policy in policies {
                let spec = try #require(policy["spec"] as? [String: Any])
                guard selects(spec["podSelector"] as? [String: Any] ?? [:], database) else { continue }
                for rule in spec["ingress"] as? [[String: Any]] ?? [] {
                    for peer in rule["from"] as? [[String: Any]] ?? [] {
                        #expect(peer["ipBlock"] == nil && peer["namespaceSelector"] == nil, "\(environment): pg open to \(peer)")
                        peers.append(peer["podSelector"] as? [String: Any] ?? [:])
                    }
                }
            }
            let reaching = try renderer.rendered.filter { $0.runs(in: environment) }.filter { service in
                let labels = try podLabels(service.name)
                return peers.contains { selects($0, labels) }
            }.map(\.name)
            let sharing = renderer.rendered.filter { $0.runs(in: environment) && !Set($0.networks.map(\.value)).isDisjoint(with: pg.networks.map(\.value)) }.map(\.name)
            #expect(reaching == sharing, "\(environment)")
            #expect(Set(reaching).isSuperset(of: ["pgbouncer", "outbox-relay", "backend"]) && reaching.allSatisfy { !["redis", "rabbitmq", "satel-worker", "dc09-receiver", "migrate"].contains($0) },
                    "\(environment): \(reaching)")
        }
    }
}
