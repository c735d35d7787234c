import Foundation
import DevStack
import Testing
import TestSupport
import Yams

/// The generated Kubernetes overlays, checked without a cluster by the tools operators use: `kubectl kustomize`
/// builds each (kubectl is on the machine image), `kubernetes-validate` (PyPI) checks every object against the
/// API's schemas of Kubernetes 1.32 in strict mode (a field the API does not know fails), and `checkov` (PyPI)
/// scans them: no failed check, and every skipped one carries its reason in the manifest. A manifest broken on
/// purpose fails both, so neither check can pass by not looking.
@Suite(.integration, .tags(.integration)) struct KubernetesToolTests {
    static let kubectl = "/usr/bin/kubectl"
    static let tools = "\(DeploymentTools.root)/.tools/k8s"
    static let kubernetesVersion = "1.32.0"

    func environment() throws -> [String: String] {
        var environment = try DeploymentTools.pythonEnvironment()
        environment["PYTHONPATH"] = Self.tools
        return environment
    }

    /// `kubectl kustomize` of an overlay, written to a file in `directory`.
    func build(_ overlay: String, into directory: String) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: Self.kubectl) else {
            throw ToolError(description: "\(Self.kubectl) is missing: the machine image brings kubectl (client only)")
        }
        let (status, output) = try DeploymentTools.status(Self.kubectl, ["kustomize", "\(DeploymentTools.generated)/k8s/overlays/\(overlay)"])
        guard status == 0 else { throw ToolError(description: "kubectl kustomize \(overlay): \(output)") }
        let path = "\(directory)/\(overlay).yaml"
        try output.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// kubernetes-validate's verdict: exit status and the lines that are not `INFO ... passed` (a kind it has no
    /// schema for is only a warning there, which this test counts as a failure).
    func validate(_ path: String) throws -> (status: Int32, complaints: [String]) {
        let (status, output) = try DeploymentTools.status("\(Self.tools)/bin/kubernetes-validate",
                                                          ["-k", Self.kubernetesVersion, "--strict", path], environment: try environment())
        let complaints = output.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("INFO ") && !$0.isEmpty }
        return (status, complaints)
    }

    struct Scan {
        var passed: Int
        var failed: [String]
        /// Check and resource of each skip, with the reason written in the manifest (nil: none).
        var skipped: [(check: String, resource: String, reason: String?)]
    }

    /// checkov's scan of one file, offline (`--skip-download`: no call to the vendor's platform).
    func scan(_ path: String) throws -> Scan {
        let (_, output) = try DeploymentTools.status("\(Self.tools)/bin/checkov",
                                                     ["--framework", "kubernetes", "--skip-download", "-o", "json", "-f", path],
                                                     environment: try environment())
        guard let start = output.firstIndex(of: "{"),
              let report = try JSONSerialization.jsonObject(with: Data(output[start...].utf8)) as? [String: Any],
              let results = report["results"] as? [String: Any] else {
            throw ToolError(description: "checkov gave no JSON report: \(output.prefix(2000))")
        }
        func checks(_ key: String) -> [[String: Any]] { results[key] as? [[String: Any]] ?? [] }
        return Scan(
            passed: checks("passed_checks").count,
            failed: checks("failed_checks").map { "\($0["check_id"] ?? "?") \($0["resource"] ?? "?")" },
            skipped: checks("skipped_checks").map { check in
                let reason = (check["check_result"] as? [String: Any])?["suppress_comment"] as? String
                return ("\(check["check_id"] ?? "?")", "\(check["resource"] ?? "?")", reason)
            })
    }

    @Test(arguments: ["prod", "stage", "dev"]) func everyOverlayBuildsValidatesAndPassesThePolicyScan(environment: String) throws {
        let directory = try DeploymentTools.temporaryDirectory("k8s-\(environment)")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let manifest = try build(environment, into: directory)
        let text = try String(contentsOfFile: manifest, encoding: .utf8)
        #expect(text.contains("kind: Deployment") && text.contains("kind: NetworkPolicy"))
        #expect(!text.contains("kind: Secret\n"), "secrets are referenced by name, never written")

        let validation = try validate(manifest)
        #expect(validation.status == 0 && validation.complaints.isEmpty, "\(validation.complaints.joined(separator: "\n"))")

        let scan = try scan(manifest)
        #expect(scan.passed > 100)
        #expect(scan.failed.isEmpty, "checkov failed: \(scan.failed.joined(separator: ", "))")
        for skip in scan.skipped {
            #expect((skip.reason ?? "").count > 20 && skip.reason != "No comment provided", "\(skip.check) on \(skip.resource) is skipped without a reason")
        }
    }

    /// The checks can fail: a field the API does not have, a privileged container and a root user are caught.
    @Test func aManifestThatBreaksTheRulesIsCaught() throws {
        let directory = try DeploymentTools.temporaryDirectory("k8s-broken")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let manifest = try build("prod", into: directory)
        var text = try String(contentsOfFile: manifest, encoding: .utf8)
        #expect(text.contains("allowPrivilegeEscalation: false") && text.contains("runAsNonRoot: true"))
        text = text.replacingOccurrences(of: "allowPrivilegeEscalation: false", with: "allowPrivilegeEscalation: true\n          privileged: true")
            .replacingOccurrences(of: "runAsNonRoot: true", with: "runAsNonRoot: false")
            .replacingOccurrences(of: "imagePullPolicy: Always", with: "imagePullPolicy: Always\n        restartPolicyy: Always")
        try text.write(toFile: manifest, atomically: true, encoding: .utf8)

        let validation = try validate(manifest)
        #expect(validation.status != 0, "kubernetes-validate took an unknown field: \(validation.complaints)")
        let scan = try scan(manifest)
        #expect(scan.failed.contains { $0.hasPrefix("CKV_K8S_16 ") }, "a privileged container passed: \(scan.failed)")
        #expect(scan.failed.contains { $0.hasPrefix("CKV_K8S_20 ") }, "privilege escalation passed: \(scan.failed)")
    }

    /// `patroni --validate-config` (the stam-patroni image's Patroni) accepts the Kubernetes patroni.yml with the
    /// variables the pod sets, and refuses it without them: the `kubernetes:` section is checked, offline (no
    /// DCS and no cluster are reached by the validation).
    @Test func patroniAcceptsItsKubernetesConfiguration() async throws {
        try await GeneratedServices.prepareEngine()
        let directory = try DeploymentTools.temporaryDirectory("k8s-patroni")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let text = try String(contentsOfFile: "\(DeploymentTools.generated)/k8s/base/pg/config/pg-config.yaml", encoding: .utf8)
        let map = try #require(try Yams.load(yaml: text) as? [String: Any])
        let file = try #require((map["data"] as? [String: Any])?["patroni.yml"] as? String)
        try file.write(toFile: "\(directory)/patroni.yml", atomically: true, encoding: .utf8)
        let pod = ["PATRONI_NAME=pg-0", "PATRONI_KUBERNETES_NAMESPACE=stam-prod", "PATRONI_KUBERNETES_POD_IP=10.0.0.5",
                   "PATRONI_RESTAPI_CONNECT_ADDRESS=pg-0.pg:8008", "PATRONI_POSTGRESQL_CONNECT_ADDRESS=pg-0.pg:5432"]
        let passwords = ["PATRONI_SUPERUSER_PASSWORD=x", "PATRONI_REPLICATION_PASSWORD=x", "PATRONI_REWIND_PASSWORD=x", "PATRONI_RESTAPI_PASSWORD=x"]
        func validate(_ variables: [String]) async throws -> (Int32, String) {
            try await ContainerEngine.status(ContainerEngine.podman, ["run", "--rm", "--network", "none", "--entrypoint", "patroni"]
                + variables.flatMap { ["-e", $0] }
                + ["-v", "\(directory)/patroni.yml:/etc/patroni/patroni.yml:ro", "localhost/stam-patroni:latest",
                   "--validate-config", "/etc/patroni/patroni.yml"])
        }
        let (status, output) = try await validate(pod + passwords)
        #expect(status == 0, "patroni --validate-config: \(output)")
        let (without, complaint) = try await validate(passwords)
        #expect(without != 0 && complaint.contains("name") && complaint.contains("connect_address"), "\(complaint)")
    }

    /// The broker of the tests (RabbitMQ 3.10, the local rabbitmq:3-management) takes the Kubernetes rabbitmq.conf
    /// and its plugins: it starts peer discovery through the k8s plugin and stops only where it needs the cluster
    /// (the service account token, absent here). A key it does not know stops it before that.
    @Test func rabbitmqTakesItsKubernetesConfigurationUpToTheCluster() async throws {
        try await GeneratedServices.prepareEngine()
        let directory = try DeploymentTools.temporaryDirectory("k8s-rabbitmq")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let text = try String(contentsOfFile: "\(DeploymentTools.generated)/k8s/base/rabbitmq/config-prod/rabbitmq-config.yaml", encoding: .utf8)
        let data = try #require((try Yams.load(yaml: text) as? [String: Any])?["data"] as? [String: String])
        try FileManager.default.createDirectory(atPath: "\(directory)/definitions", withIntermediateDirectories: true)
        try #require(data["10-topology.json"]).write(toFile: "\(directory)/definitions/10-topology.json", atomically: true, encoding: .utf8)
        try #require(data["enabled_plugins"]).write(toFile: "\(directory)/enabled_plugins", atomically: true, encoding: .utf8)
        let conf = try #require(data["rabbitmq.conf"])
        // Where the broker imports the definitions from (the pod's emptyDir, here the topology alone).
        let definitions = try #require(conf.split(separator: "\n").first { $0.hasPrefix("load_definitions = ") }?.split(separator: " ").last)
        func boot(_ conf: String) async throws -> String {
            try conf.write(toFile: "\(directory)/rabbitmq.conf", atomically: true, encoding: .utf8)
            let node = "rabbitmq-0.rabbitmq-nodes.stam-prod.svc.cluster.local"
            let (_, output) = try await ContainerEngine.status("/usr/bin/timeout", ["90", ContainerEngine.podman,
                "run", "--rm", "--network", "none", "--hostname", node, "-e", "RABBITMQ_USE_LONGNAME=true", "-e", "RABBITMQ_NODENAME=rabbit@\(node)",
                "-v", "\(directory)/rabbitmq.conf:/etc/rabbitmq/rabbitmq.conf:ro", "-v", "\(directory)/enabled_plugins:/etc/rabbitmq/enabled_plugins:ro",
                "-v", "\(directory)/definitions:\(definitions):ro",
                "docker.io/library/rabbitmq:3-management", "rabbitmq-server"])
            return output
        }
        let output = try await boot(conf)
        #expect(output.contains("Configured peer discovery backend: rabbit_peer_discovery_k8s"), "\(output.suffix(3000))")
        #expect(output.contains("rabbit_peer_discovery_k8s:make_request"), "it stops where it asks the API: \(output.suffix(3000))")
        let broken = try await boot(conf + "cluster_formation.k8s.no_such_key = 1\n")
        #expect(!broken.contains("Configured peer discovery backend"), "an unknown key is refused first: \(broken.suffix(2000))")
    }
}
