/// Renders the deployment of `schema/deployment.yaml` into `deploy/generated/`: the compose files and
/// the configuration of every component, each from its template in `deploy/templates/`.
///
/// Each component renderer produces its files and says how compose wires them into its services
/// (`ComposeWiring`: configuration mounts, entrypoints); `ComposeRenderer` then writes one compose file per
/// environment. A section missing from the schema (no `proxy:`) renders nothing for that component.
public struct DeploymentRenderer {
    public static let outputDirectory = "deploy/generated"
    public static let source = SchemaFile.deployment.path

    /// Every template the renderers use; loading fails when one is missing.
    public static let templateNames = ComposeRenderer.templateNames + NginxRenderer.templateNames + PatroniRenderer.templateNames
        + PgBouncerRenderer.templateNames + RabbitMQRenderer.templateNames + RedisRenderer.templateNames
        + PrometheusRenderer.templateNames + GrafanaRenderer.templateNames + BackupRenderer.templateNames
        + DockerfileRenderer.templateNames + CIWorkflowRenderer.templateNames + LocalOverrideRenderer.templateNames

    let schema: Schema
    let templates: DeploymentTemplates

    public init(schema: Schema, templates: DeploymentTemplates) {
        self.schema = schema
        self.templates = templates
    }

    var components: [any DeploymentComponentRenderer] {
        [
            NginxRenderer(schema: schema, templates: templates),
            PatroniRenderer(schema: schema, templates: templates),
            PgBouncerRenderer(schema: schema, templates: templates),
            RabbitMQRenderer(schema: schema, templates: templates),
            RedisRenderer(schema: schema, templates: templates),
            PrometheusRenderer(schema: schema, templates: templates),
            GrafanaRenderer(schema: schema, templates: templates),
            BackupRenderer(schema: schema, templates: templates),
            DockerfileRenderer(schema: schema, templates: templates),
            CIWorkflowRenderer(schema: schema, templates: templates),
            SecretsSwiftRenderer(schema: schema),
        ]
    }

    public func render() -> [GeneratedFile] {
        var files: [GeneratedFile] = []
        var wiring = ComposeWiring()
        for component in components {
            files += component.render()
            component.wire(into: &wiring)
        }
        files += ComposeRenderer(schema: schema, templates: templates, wiring: wiring).render()
        files += LocalOverrideRenderer(schema: schema, templates: templates).render()
        files += kubernetesRenderer.render()
        return files
    }

    /// The Kubernetes renderer, with what the components add to their services there.
    var kubernetesRenderer: KubernetesRenderer {
        var wiring = KubernetesWiring()
        for case let component as any KubernetesComponent in components {
            component.wire(into: &wiring)
        }
        return KubernetesRenderer(schema: schema, wiring: wiring)
    }

    // MARK: Output helpers shared by the component renderers

    /// A file under deploy/generated whose comments start with `#`; a shebang stays the first line.
    static func hashFile(_ relative: String, _ body: String) -> GeneratedFile {
        let header = GeneratedFile.hashHeader(source: source)
        let contents = body.hasPrefix("#!")
            ? body.prefix(while: { $0 != "\n" }) + "\n" + header + body.drop(while: { $0 != "\n" }).dropFirst()
            : header + body
        return GeneratedFile(path: "\(outputDirectory)/\(relative)", contents: String(contents))
    }

    /// A JSON file under deploy/generated; its template writes the header under `_generated`.
    static func jsonFile(_ relative: String, _ body: String) -> GeneratedFile {
        GeneratedFile(path: "\(outputDirectory)/\(relative)", contents: body)
    }
}

/// One component of the deployment (nginx, Patroni, ...): its generated files and its compose wiring.
protocol DeploymentComponentRenderer {
    func render() -> [GeneratedFile]
    func wire(into wiring: inout ComposeWiring)
}

/// A component whose service runs differently on Kubernetes (configuration as a ConfigMap, no root entrypoint).
protocol KubernetesComponent {
    func wire(into wiring: inout KubernetesWiring)
}

/// What components add to services in the compose files, keyed by service name (every instance gets it).
struct ComposeWiring {
    struct Key: Hashable {
        var environment: String
        var service: String
    }

    /// `source:target:ro` bind mounts; sources are relative to deploy/generated (where the compose files are).
    private(set) var mounts: [Key: [String]] = [:]
    private(set) var entrypoints: [Key: [String]] = [:]
    private(set) var commands: [Key: [String]] = [:]

    mutating func mount(_ source: String, at target: String, service: String, environment: String, readOnly: Bool = true) {
        mounts[Key(environment: environment, service: service), default: []].append("./\(source):\(target)" + (readOnly ? ":ro" : ""))
    }

    /// A host path (already written as compose wants it, e.g. with a variable) mounted read-write.
    mutating func hostMount(_ volume: String, service: String, environment: String) {
        mounts[Key(environment: environment, service: service), default: []].append(volume)
    }

    mutating func entrypoint(_ arguments: [String], service: String, environment: String) {
        entrypoints[Key(environment: environment, service: service)] = arguments
    }

    mutating func command(_ arguments: [String], service: String, environment: String) {
        commands[Key(environment: environment, service: service)] = arguments
    }

    func mounts(of service: String, in environment: String) -> [String] { mounts[Key(environment: environment, service: service)] ?? [] }
    func entrypoint(of service: String, in environment: String) -> [String]? { entrypoints[Key(environment: environment, service: service)] }
    func command(of service: String, in environment: String) -> [String]? { commands[Key(environment: environment, service: service)] }
}
