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

    /// The documents of a rendered file under k8s/.
    func documents(_ files: [String: String], _ path: String) throws -> [[String: Any]] {
        guard let text = files[path] else { throw Missing(path: path) }
        return try documents(text)
    }

    @Test func eachOverlayRunsTheServicesOfItsEnvironmentAsComposeDoes() throws {
        let schema = try generator.loadSchema().schema
        let files = try files()
        let renderer = KubernetesRenderer(schema: schema)
        #expect(Set(renderer.rendered.map(\.name)).isSuperset(of: ["migrate", "backend", "outbox-relay", "satel-worker", "dc09-receiver"]))
        for environment in schema.deployment.environments.map(\.name) {
            let kustomization = try #require(try documents(files, "overlays/\(environment)/kustomization.yaml").first)
            let resources = Set(kustomization["resources"] as? [String] ?? [])
            for service in renderer.rendered {
                let listed = resources.contains("../../base/\(service.name)")
                #expect(listed == service.runs(in: environment), "\(environment): \(service.name)")
                guard listed else { continue }
                let patch = try #require(try documents(files, "overlays/\(environment)/\(service.name).yaml").first)
                let spec = try #require(patch["spec"] as? [String: Any])
                if service.restart != .no { #expect(spec["replicas"] as? Int == service.instances.value(in: environment), "\(environment): \(service.name)") }
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
        let schema = try generator.loadSchema().schema
        let files = try files()
        let renderer = KubernetesRenderer(schema: schema)
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
}
