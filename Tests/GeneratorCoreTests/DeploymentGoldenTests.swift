import Foundation
import Testing
import Yams
@testable import GeneratorCore

/// The deployment files: the committed `deploy/generated` is exactly what the templates render from the
/// committed schema, the compose files are internally consistent, and a schema change reaches them.
@Suite struct DeploymentGoldenTests {
    static let root = SchemaSnippet.projectRoot
    let generator = StamGenerator(root: Self.root)

    func deploymentFiles() throws -> [GeneratedFile] {
        try generator.render(generator.loadSchema()).filter { $0.path.hasPrefix(DeploymentRenderer.outputDirectory + "/") }
    }

    @Test func templatesRenderTheCommittedFiles() throws {
        let files = try deploymentFiles()
        #expect(files.count >= 2)
        let changes = generator.changes(for: files)
        #expect(changes.written.isEmpty, "deploy/generated is stale; run `stamgen generate`:\n\(generator.diff(changes))")
        let committed = Set(generator.listFiles(under: DeploymentRenderer.outputDirectory))
        #expect(committed == Set(files.map(\.path)), "files in deploy/generated that the schema does not produce, or missing ones")
    }

    @Test func renderingTwiceGivesTheSameBytes() throws {
        #expect(try deploymentFiles() == deploymentFiles())
    }

    /// Every name a compose service uses is declared at the top level, every dependency is a service, and
    /// no secret reaches a service as an environment value.
    @Test(arguments: ["prod", "stage", "dev"]) func composeFileIsConsistent(environment: String) throws {
        let path = "\(DeploymentRenderer.outputDirectory)/docker-compose.\(environment).yml"
        let file = try #require(try deploymentFiles().first { $0.path == path })
        let compose = try #require(try Yams.load(yaml: file.contents) as? [String: Any])
        #expect(compose["version"] == nil && compose["name"] == nil, "docker-compose 1.29 rejects name:, version: would select an old format")
        let services = try #require(compose["services"] as? [String: [String: Any]])
        let networks = Set((compose["networks"] as? [String: Any] ?? [:]).keys)
        let volumes = Set((compose["volumes"] as? [String: Any] ?? [:]).keys)
        let secrets = Set((compose["secrets"] as? [String: Any] ?? [:]).keys)
        let schema = try generator.loadSchema().schema
        let secretNames = Set(schema.deployment.secrets.map(\.name))
        for (name, service) in services {
            for network in service["networks"] as? [String] ?? [] { #expect(networks.contains(network), "\(name) uses network \(network)") }
            for secret in service["secrets"] as? [String] ?? [] { #expect(secrets.contains(secret), "\(name) uses secret \(secret)") }
            for volume in service["volumes"] as? [String] ?? [] {
                let source = String(volume.split(separator: ":")[0])
                if source.hasPrefix("./") {
                    let generated = "\(DeploymentRenderer.outputDirectory)/\(source.dropFirst(2))"
                    #expect(try deploymentFiles().contains { $0.path == generated }, "\(name) mounts \(source), which is not generated")
                } else if !source.hasPrefix("/") && !source.hasPrefix("$") {
                    #expect(volumes.contains(source), "\(name) uses volume \(source)")
                }
            }
            for dependency in (service["depends_on"] as? [String: Any] ?? [:]).keys {
                #expect(services[dependency] != nil, "\(name) depends on \(dependency)")
            }
            for (variable, value) in service["environment"] as? [String: Any] ?? [:] {
                let text = "\(value)"
                #expect(!secretNames.contains(where: { text.contains("$(cat /run/secrets/\($0))") }), "\(name).\(variable)")
            }
        }
        // Only the published ports of the schema are published, bound to the environment's address.
        let published = services.flatMap { name, service in (service["ports"] as? [String] ?? []).map { (name, $0) } }
        // Each instance of a service with several binds a host port of its own: the port plus its place.
        let address = "${STAM_PUBLISH_ADDRESS:-\(try #require(schema.deployment.environment(named: environment)).publishAddress)}"
        let expected = schema.deployment.services.flatMap { service in
            let instances = service.instanceNames(in: environment)
            return instances.enumerated().flatMap { place, instance in
                (service.publish?.value(in: environment) ?? []).map { port in
                    let several = instances.count > 1
                    let variable = ComposeRenderer.publishPortVariable(service, port.number, instance: several ? instance : nil)
                    let suffix = port.transport == .udp ? "/udp" : ""
                    return "\(instance) \(address):${\(variable):-\(port.number + (several ? place : 0))}:\(port.number)\(suffix)"
                }
            }
        }
        #expect(published.map { "\($0.0) \($0.1)" }.sorted() == expected.sorted())
    }

    /// STAGE (`like: prod`) is production's compose file: the same containers, images, replicas, variables,
    /// secrets, networks and mounted files, but for nginx's, which names stage's own host.
    @Test func stageComposeIsProdWithItsOwnNames() throws {
        let files = try deploymentFiles()
        func compose(_ environment: String) throws -> String {
            try #require(files.first { $0.path == "\(DeploymentRenderer.outputDirectory)/docker-compose.\(environment).yml" }).contents
        }
        // Line by line: the header comments name the file, and nginx mounts its own file; nothing else differs.
        let prod = try compose("prod").split(separator: "\n", omittingEmptySubsequences: false)
        let stage = try compose("stage").split(separator: "\n", omittingEmptySubsequences: false)
        #expect(prod.count == stage.count)
        let differingLines = zip(prod, stage).filter { $0 != $1 && !$0.hasPrefix("#") }
        #expect(differingLines.map { "\($0) | \($1)" } == [
            "      - \"./nginx/nginx.prod.conf:/etc/nginx/nginx.conf:ro\" |       - \"./nginx/nginx.stage.conf:/etc/nginx/nginx.conf:ro\"",
        ])
        let stageServices = try #require((try Yams.load(yaml: compose("stage")) as? [String: Any])?["services"] as? [String: [String: Any]])
        #expect(stageServices.count >= 21 && stageServices["nginx"] != nil && stageServices["pg-replica"] != nil)
        // Built images come from the registry in both, as in production.
        #expect((stageServices["backend-1"]?["image"] as? String)?.hasPrefix("${STAM_IMAGE_REGISTRY:-localhost:5000}/") == true)
        // The two nginx files differ in the server name (and the header naming the environment) only.
        func nginx(_ environment: String) throws -> [String] {
            try #require(files.first { $0.path == "\(DeploymentRenderer.outputDirectory)/nginx/nginx.\(environment).conf" }).contents
                .split(separator: "\n").map(String.init).filter { !$0.hasPrefix("# nginx in front of the backends") }
        }
        let (prodNginx, stageNginx) = (try nginx("prod"), try nginx("stage"))
        #expect(prodNginx.count == stageNginx.count)
        let differing = zip(prodNginx, stageNginx).filter { $0 != $1 }
        #expect(differing.map(\.0) == ["        server_name stam.local;"] && differing.map(\.1) == ["        server_name stage.stam.local;"])
    }

    @Test func productionComposeHasTheSeedsTopology() throws {
        let file = try #require(try deploymentFiles().first { $0.path.hasSuffix("docker-compose.prod.yml") })
        let compose = try #require(try Yams.load(yaml: file.contents) as? [String: Any])
        let services = try #require(compose["services"] as? [String: [String: Any]])
        for name in ["nginx", "backend-1", "backend-2", "outbox-relay-1", "outbox-relay-2", "satel-worker", "pg-primary",
                     "pg-replica", "etcd", "pgbouncer", "redis", "rabbitmq", "sms-agent"] {
            #expect(services[name] != nil, "\(name)")
        }
        #expect(services["postgres"] == nil && services["panel-simulator"] == nil)
        let nginxDependencies = try #require(services["nginx"]?["depends_on"] as? [String: [String: String]])
        #expect(nginxDependencies["backend-1"]?["condition"] == "service_healthy")
        #expect(nginxDependencies["backend-2"]?["condition"] == "service_healthy")
        #expect(services["sms-agent"]?["devices"] as? [String] == ["${STAM_MODEM_DEVICE:-/dev/ttyUSB0}:/dev/ttyUSB0"])
        // The worker's HTTP port stays off the panel VLAN, whatever subnet the site gives it (a compose variable, not
        // an escaped literal the worker could not parse).
        let workerEnvironment = try #require(services["satel-worker"]?["environment"] as? [String: String])
        #expect(workerEnvironment["STAM_METRICS_NOT_ON"] == "${SATEL_VLAN_SUBNET:-192.168.100.0/24}")
        #expect(services["nginx"]?["ports"] as? [String] == ["${STAM_PUBLISH_ADDRESS:-0.0.0.0}:${STAM_NGINX_HTTPS_PORT:-443}:443"])
        // The one-shot migration: every service that uses the database waits for its successful exit.
        #expect(services["migrate"]?["restart"] as? String == "no")
        #expect(services["migrate"]?["command"] as? [String] == ["stam", "migrate", "--migrations", "/usr/share/stam/migrations"])
        for name in ["backend-1", "backend-2", "outbox-relay-1", "outbox-relay-2", "satel-worker"] {
            let dependencies = try #require(services[name]?["depends_on"] as? [String: [String: String]], "\(name)")
            #expect(dependencies["migrate"]?["condition"] == "service_completed_successfully", "\(name)")
        }
        #expect(services["satel-worker"]?["networks"] as? [String] == ["app", "satel_vlan"])
        // Networks by role: who can open a connection to whom. nginx, the only container facing operators, shares
        // a network with the backends (and their exporter and Prometheus) only; etcd with the Patroni nodes and
        // Prometheus only; the database nodes with no one who faces operators.
        func networks(_ name: String) -> Set<String> { Set(services[name]?["networks"] as? [String] ?? []) }
        func peers(of name: String) -> Set<String> {
            Set(services.keys.filter { $0 != name && !networks($0).isDisjoint(with: networks(name)) })
        }
        #expect(peers(of: "nginx") == ["backend-1", "backend-2", "grafana", "nginx-exporter", "prometheus"])
        #expect(peers(of: "etcd") == ["pg-primary", "pg-replica", "prometheus"])
        for data in ["etcd", "pg-primary", "pg-replica", "redis", "rabbitmq", "pgbouncer"] {
            #expect(!peers(of: "nginx").contains(data), "nginx reaches \(data)")
            #expect(!peers(of: "grafana").contains(data), "grafana reaches \(data)")
        }
        #expect(peers(of: "sms-agent").isDisjoint(with: ["pg-primary", "pg-replica", "etcd", "backup"]))
        // The DC-09 receivers, which communicators on the internet reach, share a network with nothing that faces
        // operators or holds data but PgBouncer (and Prometheus, which scrapes them).
        #expect(peers(of: "dc09-receiver-1").subtracting(["dc09-receiver-2"]).isDisjoint(with: ["nginx", "pg-primary", "pg-replica", "etcd", "backup", "grafana"]))
        #expect(networks("dc09-receiver-1") == ["alarm_ingress", "app"])
        #expect(services["dc09-receiver-2"]?["ports"] as? [String] == ["${STAM_PUBLISH_ADDRESS:-0.0.0.0}:${STAM_DC09_RECEIVER_2_DC09_PORT:-7201}:7200",
                                                                    "${STAM_PUBLISH_ADDRESS:-0.0.0.0}:${STAM_DC09_RECEIVER_2_DC09_PORT:-7201}:7200/udp"])
        // ...and a network is a wall only when it has no route out: all but the two that publish ports (nginx's on the
        // edge, the receivers' on alarm_ingress).
        for (name, network) in try #require(compose["networks"] as? [String: [String: Any]]) where network["driver"] as? String == "bridge" {
            #expect((network["internal"] as? Bool ?? false) == !["edge", "alarm_ingress"].contains(name), "\(name)")
        }
        // A health check written as a list runs without a shell (the official etcd image has none).
        #expect((services["etcd"]?["healthcheck"] as? [String: Any])?["test"] as? [String]
                == ["CMD", "etcdctl", "--endpoints=https://localhost:2379", "--cacert=/run/secrets/etcd_tls_ca",
                    "--cert=/run/secrets/etcd_client_certificate", "--key=/run/secrets/etcd_client_private_key", "endpoint", "health"])
        #expect(services["satel-worker"]?["cpus"] as? Int == 2 && services["satel-worker"]?["mem_limit"] as? String == "1G")
        let vlan = try #require((compose["networks"] as? [String: [String: Any]])?["satel_vlan"])
        #expect(vlan["driver"] as? String == "macvlan")
        #expect((vlan["driver_opts"] as? [String: String])?["parent"] == "${SATEL_VLAN_PARENT:-eth1.100}")
        #expect(services.filter { $0.key != "migrate" }.values.allSatisfy { $0["restart"] as? String == "always" })
    }

    /// The local override changes only what a machine without a VLAN or an image for Grafana cannot do.
    @Test func localOverrideBridgesTheVLANAndLeavesOutGrafana() throws {
        let file = try #require(try deploymentFiles().first { $0.path.hasSuffix("docker-compose.prod.local.yml") })
        let compose = try #require(try Yams.load(yaml: file.contents) as? [String: Any])
        let services = try #require(compose["services"] as? [String: [String: Any]])
        #expect(Set(services.keys) == ["grafana", "nginx", "sms-agent"])
        #expect(services["sms-agent"]?["volumes"] as? [String] == ["${STAM_MODEM_DEVICE:-/dev/ttyUSB0}:/dev/ttyUSB0"])
        #expect(services["grafana"]?["profiles"] as? [String] == [LocalOverrideRenderer.leftOutProfile])
        #expect(services["nginx"]?["extra_hosts"] as? [String] == ["grafana:127.0.0.1"])
        let vlan = try #require((compose["networks"] as? [String: [String: Any]])?["satel_vlan"])
        #expect(vlan["driver"] as? String == "bridge" && vlan["driver_opts"] == nil)
        #expect(((vlan["ipam"] as? [String: Any])?["options"] as? [String: String]) == ["driver": "host-local"])
        let ipam = try #require((vlan["ipam"] as? [String: Any])?["config"] as? [[String: String]])
        #expect(ipam == [["subnet": "${SATEL_VLAN_SUBNET:-192.168.100.0/24}", "gateway": "${SATEL_VLAN_GATEWAY:-192.168.100.1}"]])
    }

    @Test func developmentComposeIsTheSimplifiedStack() throws {
        let file = try #require(try deploymentFiles().first { $0.path.hasSuffix("docker-compose.dev.yml") })
        let compose = try #require(try Yams.load(yaml: file.contents) as? [String: Any])
        let services = try #require(compose["services"] as? [String: [String: Any]])
        #expect(Set(services.keys) == ["migrate", "backend", "outbox-relay", "satel-worker", "postgres", "redis", "rabbitmq", "sms-agent",
                                       "panel-simulator", "modem-simulator", "dc09-receiver"])
        #expect((compose["networks"] as? [String: [String: Any]])?["satel_vlan"]?["driver"] as? String == "bridge")
        #expect(services["backend"]?["build"] != nil)
    }

    /// A third backend in prod reaches compose (and everything that lists the backends) after `generate`.
    @Test func aThirdBackendShowsUpAfterGenerate() throws {
        let project = try DeploymentProject.copy(from: Self.root)
        defer { project.remove() }
        try project.edit("schema/deployment.yaml") {
            $0.replacingOccurrences(of: "command: [stam, backend]\n    instances: { prod: 2, dev: 1 }",
                                    with: "command: [stam, backend]\n    instances: { prod: 3, dev: 1 }")
        }
        let generator = StamGenerator(root: project.root)
        let changes = generator.changes(for: generator.render(try generator.loadSchema()))
        try generator.apply(changes)
        let written = Set(changes.written.map(\.path))
        #expect(written.contains("deploy/generated/docker-compose.prod.yml"))
        #expect(!written.contains("deploy/generated/docker-compose.dev.yml"))
        let compose = try project.read("deploy/generated/docker-compose.prod.yml")
        #expect(compose.contains("\n  backend-3:\n"))
        #expect(compose.contains("\n      backend-3:\n        condition: service_healthy\n"))
        for path in DeploymentProject.filesListingBackends {
            #expect(written.contains(path), "\(path)")
            #expect(try project.read(path).contains("backend-3"), "\(path)")
        }
        #expect(generator.changes(for: generator.render(try generator.loadSchema())).isEmpty)
    }

    /// The schema is the only place a service, its port, secret and health check are declared: a service added to
    /// a copy of it reaches every output that runs, routes to, scrapes or isolates services, in every environment.
    @Test func aServiceAddedToTheSchemaReachesComposeNginxPrometheusAndKubernetes() throws {
        let project = try DeploymentProject.copy(from: Self.root)
        defer { project.remove() }
        try project.edit("schema/deployment.yaml") {
            $0.replacingOccurrences(of: "\n  outbox-relay:\n", with: """

                  reports:
                    doc: A second API for long reports, routed at /reports/.
                    image: stam-replacer-backend
                    command: [stam, backend]
                    instances: { prod: 2, dev: 0 }
                    networks: [edge, app]
                    ports: { http: 8000, metrics: 9100 }
                    metrics: { port: metrics }
                    secrets: [redis_password]
                    env: { REDIS_URL: "redis://redis:6379" }
                    health: { http: /readyz, port: 8000, interval: 10s }
                    restart: always
                    resources: { cpus: 1, memory: 256M }

                  outbox-relay:

                """)
            .replacingOccurrences(of: "    /grafana/: { service: grafana, port: http }\n",
                                  with: "    /grafana/: { service: grafana, port: http }\n    /reports/: { service: reports, port: http }\n")
        }
        let generator = StamGenerator(root: project.root)
        try generator.apply(generator.changes(for: generator.render(try generator.loadSchema())))
        for environment in ["prod", "stage"] {
            let compose = try #require(try Yams.load(yaml: project.read("deploy/generated/docker-compose.\(environment).yml")) as? [String: Any])
            let services = try #require(compose["services"] as? [String: [String: Any]])
            for instance in ["reports-1", "reports-2"] {
                let service = try #require(services[instance], "\(environment) \(instance)")
                #expect(service["networks"] as? [String] == ["edge", "app"])
                #expect(service["secrets"] as? [String] == ["redis_password"])
                #expect((service["healthcheck"] as? [String: Any])?["test"].map { "\($0)" }?.contains("/readyz") == true)
            }
            let nginx = try project.read("deploy/generated/nginx/nginx.\(environment).conf")
            #expect(nginx.contains("location /reports/ {"), "\(environment)")
            #expect(nginx.contains("reports-1:8000"), "\(environment)")
        }
        #expect(try Yams.load(yaml: project.read("deploy/generated/docker-compose.dev.yml")).map { "\($0)" }?.contains("reports-1") == false)
        let prometheus = try project.read("deploy/generated/prometheus/prometheus.yml")
        #expect(prometheus.contains("job_name: reports") || prometheus.contains("job_name: \"reports\""), "\(prometheus)")
        #expect(prometheus.contains("reports-1:9100") && prometheus.contains("reports-2:9100"))
        let manifests = try project.read("deploy/generated/k8s/base/reports/reports.yaml")
        let objects = try Yams.load_all(yaml: manifests).compactMap { $0 as? [String: Any] }
        #expect(Set(objects.compactMap { $0["kind"] as? String }).isSuperset(of: ["Deployment", "Service"]))
        let deployment = try #require(objects.first { $0["kind"] as? String == "Deployment" })
        let labels = ((((deployment["spec"] as? [String: Any])?["template"] as? [String: Any])?["metadata"] as? [String: Any])?["labels"] as? [String: String]) ?? [:]
        #expect(labels.keys.contains { $0.hasSuffix("edge") } && labels.keys.contains { $0.hasSuffix("app") } && !labels.keys.contains { $0.hasSuffix("data") }, "\(labels)")
        for environment in ["prod", "stage"] {
            #expect(try project.read("deploy/generated/k8s/overlays/\(environment)/kustomization.yaml").contains("../../base/reports"), "\(environment)")
            let ingress = try project.read("deploy/generated/k8s/overlays/\(environment)/ingress.yaml")
            #expect(ingress.contains("path: \"/reports/\"") && ingress.contains("name: \"reports\""), "\(environment)")
        }
        #expect(try !project.read("deploy/generated/k8s/overlays/dev/kustomization.yaml").contains("../../base/reports"))
        #expect(generator.changes(for: generator.render(try generator.loadSchema())).isEmpty)
    }
}

/// A throw-away copy of the project's schema and templates, for tests that run `generate` on a change.
struct DeploymentProject {
    /// Generated files that name every backend instance.
    static let filesListingBackends = ["deploy/generated/nginx/nginx.prod.conf", "deploy/generated/nginx/nginx.stage.conf", "deploy/generated/prometheus/prometheus.yml"]

    let root: String

    static func copy(from source: String) throws -> DeploymentProject {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("stamgen-deploy-\(UUID().uuidString)").path
        let manager = FileManager.default
        try manager.createDirectory(atPath: "\(root)/deploy", withIntermediateDirectories: true)
        try manager.copyItem(atPath: "\(source)/schema", toPath: "\(root)/schema")
        try manager.copyItem(atPath: "\(source)/\(DeploymentTemplates.directory)", toPath: "\(root)/\(DeploymentTemplates.directory)")
        try manager.copyItem(atPath: "\(source)/\(DeploymentRenderer.outputDirectory)", toPath: "\(root)/\(DeploymentRenderer.outputDirectory)")
        try manager.createDirectory(atPath: "\(root)/Sources", withIntermediateDirectories: true)
        try manager.copyItem(atPath: "\(source)/\(SwiftModelRenderer.outputDirectory)", toPath: "\(root)/\(SwiftModelRenderer.outputDirectory)")
        return DeploymentProject(root: root)
    }

    func edit(_ path: String, _ change: (String) -> String) throws {
        let old = try read(path)
        let new = change(old)
        #expect(new != old, "the edit of \(path) changed nothing")
        try new.write(toFile: "\(root)/\(path)", atomically: true, encoding: .utf8)
    }

    func read(_ path: String) throws -> String { try String(contentsOfFile: "\(root)/\(path)", encoding: .utf8) }

    func remove() { try? FileManager.default.removeItem(atPath: root) }
}

/// The Dockerfiles and the CI workflow: what can be checked without a Docker engine.
@Suite struct DeploymentImageTests {
    let generator = StamGenerator(root: SchemaSnippet.projectRoot)

    func file(_ path: String) throws -> String {
        try #require(try generator.render(generator.loadSchema()).first { $0.path == path }, "\(path) is not generated").contents
    }

    @Test func everyBuiltImageHasADockerfileWhoseSourcesExist() throws {
        let schema = try generator.loadSchema().schema
        let built = schema.deployment.images.filter { $0.dockerfile?.hasPrefix("deploy/generated/") == true }
        #expect(built.count >= 3)
        for image in built {
            let dockerfile = try file(try #require(image.dockerfile))
            let lines = dockerfile.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            #expect(lines.contains { $0.hasPrefix("FROM ") }, "\(image.name)")
            // Every file copied from the build context exists (the context is the project root).
            for line in lines where line.hasPrefix("COPY ") && !line.contains("--from=") {
                let source = String(line.split(separator: " ")[1])
                #expect(FileManager.default.fileExists(atPath: "\(SchemaSnippet.projectRoot)/\(source)"), "\(image.name): \(line)")
            }
            // No secret is baked into an image.
            for secret in schema.deployment.secrets { #expect(!dockerfile.contains(secret.file), "\(image.name) copies \(secret.file)") }
            if image.template == .stam {
                #expect(lines.filter { $0.hasPrefix("FROM ") }.count == 2, "\(image.name): a build stage and a runtime stage")
                #expect(lines.contains("USER \(DockerfileRenderer.stamUID):\(DockerfileRenderer.stamUID)"), "\(image.name) runs as non-root")
                #expect(lines.contains { $0.hasPrefix("FROM debian:bookworm-slim") }, "\(image.name): slim runtime")
            }
        }
    }

    @Test func patroniImageInstallsAPatroniThatKeepsAcknowledgedWrites() throws {
        // Debian 12's Patroni 3.0.2 can lose acknowledged writes with etcd3 on a split brain; >= 3.0.3 from PyPI.
        let dockerfile = try file("deploy/generated/docker/patroni.Dockerfile")
        #expect(dockerfile.contains("patroni[etcd3]==\(DockerfileRenderer.patroniVersion)"))
        let version = DockerfileRenderer.patroniVersion.split(separator: ".").compactMap { Int($0) }
        #expect(version.lexicographicallyPrecedes([3, 0, 3]) == false, "\(version)")
    }

    @Test func ciBuildsTestsThenPushesEveryImageOnMain() throws {
        let workflow = try #require(try Yams.load(yaml: file(CIWorkflowRenderer.workflowPath)) as? [String: Any])
        let jobs = try #require(workflow["jobs"] as? [String: [String: Any]])
        let steps = try #require(jobs["test"]?["steps"] as? [[String: Any]])
        #expect(steps.contains { $0["run"] as? String == ".ci/run" })
        #expect(jobs["images"]?["needs"] as? String == "test")
        #expect((jobs["images"]?["if"] as? String)?.contains("refs/heads/main") == true)
        let matrix = ((jobs["images"]?["strategy"] as? [String: Any])?["matrix"] as? [String: Any])?["include"] as? [[String: String]]
        let schema = try generator.loadSchema().schema
        #expect(Set(matrix?.compactMap { $0["image"] } ?? []) == Set(schema.deployment.images.filter { $0.dockerfile != nil }.map(\.name)))
        for entry in matrix ?? [] { #expect(FileManager.default.fileExists(atPath: "\(SchemaSnippet.projectRoot)/\(entry["dockerfile"] ?? "")")) }
    }
}
