import Foundation

/// `deploy/generated/patroni/`: one Patroni configuration per node (`<node>.yml`, mounted as
/// /etc/patroni/patroni.yml), and the scripts baked into the stam-patroni image: the entrypoint (copies
/// the secrets the postgres user needs, hands passwords to Patroni as PATRONI_* variables, drops root),
/// post-bootstrap (the application role and database) and the PgBouncer callback.
///
/// The callback is how PgBouncer follows the primary (PgBouncer cannot do it alone): on on_start,
/// on_restart and on_role_change, a node that became the primary writes itself as PgBouncer's
/// `[databases]` target into the shared volume and RELOADs PgBouncer through its admin console.
struct PatroniRenderer: DeploymentComponentRenderer {
    static let templateNames = ["patroni.yml", "patroni-entrypoint.sh", "patroni-post-bootstrap.sh", "pgbouncer-follow-primary.sh",
                                "patroni-kubernetes-entrypoint.sh"]

    // The container layout of the stam-patroni image.
    static let configPath = "/etc/patroni/patroni.yml"
    static let dataDirectory = "/var/lib/postgresql/data/pgdata"
    static let privateSecrets = "/run/stam"
    static let targetDirectory = "/etc/pgbouncer/target"
    static let entrypoint = "/usr/local/bin/stam-patroni-entrypoint"
    static let postBootstrap = "/usr/local/bin/stam-post-bootstrap"
    static let callback = "/usr/local/bin/stam-pgbouncer-follow-primary"
    static let superuser = "postgres"
    static let replicationUser = "replicator"
    static let apiUser = "patroni"
    static let pgbouncerAdmin = "pgbouncer_admin"

    let schema: Schema
    let templates: DeploymentTemplates

    struct Parameter { var name: String; var value: String }

    struct NodeView {
        var scope: String
        var node: String
        var restPort: Int
        var postgresPort: Int
        var dcsHosts: String
        /// etcd over TLS with a client certificate (`dcs_tls`): the files where the entrypoint copies them.
        var dcsTLS: DCSFiles?
        var ttl: Int
        var loopWait: Int
        var retryTimeout: Int
        var maximumLag: Int
        var synchronousMode: Bool
        var failsafeMode: Bool
        var clusterParameters: [Parameter]
        var dataDirectory: String
        var privateSecrets: String
        var caFile: String
        var certificateFile: String
        var keyFile: String
        var superuser: String
        var replicationUser: String
        var apiUser: String
        var appUser: String
        var callback: String
        var postBootstrap: String
        var environment: String
        /// Set for the Kubernetes variant: the `kubernetes:` DCS in place of etcd, no node names, no callback.
        var kubernetes: KubernetesDCS? = nil
    }

    /// Patroni's Kubernetes DCS settings (`kubernetes:`); `portName` is the port name of the Service `<scope>`.
    struct KubernetesDCS {
        var labels: [Parameter]
        var scopeLabel: String
        var roleLabel: String
        var leaderLabelValue: String
        var followerLabelValue: String
        var portName: String
        var port: Int
    }

    struct DCSFiles { var caFile: String; var certificateFile: String; var keyFile: String }

    struct ScriptView {
        var secrets: [String]
        var privateSecrets: String
        var superuserSecret: String
        var replicationSecret: String
        var apiSecret: String
        var passwordSecret: String
        var adminSecret: String
        var superuser: String
        var replicationUser: String
        var apiUser: String
        var appUser: String
        var database: String
        var dataParent: String
        var postgresHome: String
        var targetDirectory: String
        var pgbouncerHost: String
        var pgbouncerPort: Int
        var pgbouncerAdmin: String
    }

    /// Each node's file per group of environments that run it alike.
    func outputs() -> [(node: String, output: EnvironmentFiles.Output)] {
        guard let postgres = schema.deployment.postgres, let patroni = postgres.patroni else { return [] }
        return patroni.nodes.compactMap { schema.deployment.service(named: $0.value) }.flatMap { node in
            let environments = schema.deployment.environments.map(\.name).filter { node.runs(in: $0) }
            return EnvironmentFiles.group(environments, path: { $0.map { "patroni/\(node.name).\($0).yml" } ?? "patroni/\(node.name).yml" }) { environment, label in
                templates.render("patroni.yml", view(of: node, in: environment, label: label, postgres, patroni))
            }.map { (node.name, $0) }
        }
    }

    func render() -> [GeneratedFile] {
        guard let postgres = schema.deployment.postgres, let patroni = postgres.patroni else { return [] }
        var files = outputs().map { DeploymentRenderer.hashFile($0.output.path, $0.output.contents) }
        guard !files.isEmpty, let script = scriptView(postgres, patroni) else { return files }
        files.append(DeploymentRenderer.hashFile("patroni/entrypoint.sh", templates.render("patroni-entrypoint.sh", script)))
        files.append(DeploymentRenderer.hashFile("patroni/post-bootstrap.sh", templates.render("patroni-post-bootstrap.sh", script)))
        files.append(DeploymentRenderer.hashFile("patroni/pgbouncer-follow-primary.sh", templates.render("pgbouncer-follow-primary.sh", script)))
        return files
    }

    func wire(into wiring: inout ComposeWiring) {
        for (node, output) in outputs() {
            for environment in output.environments {
                wiring.mount(output.path, at: Self.configPath, service: node, environment: environment)
            }
        }
    }

    func view(of node: ServiceDeclaration, in environment: String, label: String, _ postgres: PostgresSettings, _ patroni: PostgresSettings.Patroni) -> NodeView {
        let deployment = schema.deployment
        let dcsPort = deployment.port(patroni.dcs) ?? 2379
        let dcsHosts = (deployment.service(named: patroni.dcs.service.value)?.instanceNames(in: environment) ?? [])
            .map { "\($0):\(dcsPort)" }.joined(separator: ",")
        return NodeView(
            scope: patroni.scope, node: node.name, restPort: node.port(named: "patroni") ?? 8008,
            postgresPort: node.port(named: "postgres") ?? 5432, dcsHosts: dcsHosts,
            dcsTLS: patroni.dcsTLS.map { DCSFiles(caFile: "\(Self.privateSecrets)/\($0.ca.value)", certificateFile: "\(Self.privateSecrets)/\($0.certificate.value)",
                                                  keyFile: "\(Self.privateSecrets)/\($0.key.value)") },
            ttl: patroni.ttl, loopWait: patroni.loopWait,
            retryTimeout: patroni.retryTimeout, maximumLag: patroni.maximumLagOnFailover, synchronousMode: patroni.synchronousMode,
            failsafeMode: patroni.failsafeMode,
            clusterParameters: patroni.parameters.map { .init(name: $0.name.value, value: TemplateValues.quoted($0.value)) },
            dataDirectory: Self.dataDirectory, privateSecrets: Self.privateSecrets,
            caFile: "\(Self.privateSecrets)/\(patroni.tls.ca.value)", certificateFile: "\(Self.privateSecrets)/\(patroni.tls.certificate.value)",
            keyFile: "\(Self.privateSecrets)/\(patroni.tls.key.value)", superuser: Self.superuser, replicationUser: Self.replicationUser,
            apiUser: Self.apiUser, appUser: postgres.user,
            callback: "\(Self.callback) \(node.name) \(node.port(named: "postgres") ?? 5432)",
            postBootstrap: Self.postBootstrap, environment: label)
    }

    func scriptView(_ postgres: PostgresSettings, _ patroni: PostgresSettings.Patroni) -> ScriptView? {
        let deployment = schema.deployment
        guard let first = patroni.nodes.first.flatMap({ deployment.service(named: $0.value) }) else { return nil }
        let pgbouncer = postgres.pgbouncer
        let pgbouncerService = pgbouncer.flatMap { deployment.service(named: $0.service.value) }
        return ScriptView(
            secrets: first.secrets.map(\.value), privateSecrets: Self.privateSecrets,
            superuserSecret: patroni.superuserPassword.value, replicationSecret: patroni.replicationPassword.value,
            apiSecret: patroni.apiPassword.value, passwordSecret: postgres.password.value,
            adminSecret: pgbouncer?.adminPassword.value ?? "", superuser: Self.superuser, replicationUser: Self.replicationUser,
            apiUser: Self.apiUser, appUser: postgres.user, database: postgres.database,
            dataParent: (Self.dataDirectory as NSString).deletingLastPathComponent, postgresHome: "/var/lib/postgresql", targetDirectory: Self.targetDirectory,
            pgbouncerHost: pgbouncerService?.name ?? "", pgbouncerPort: pgbouncerService?.port(named: "pgbouncer") ?? 6432,
            pgbouncerAdmin: Self.pgbouncerAdmin)
    }
}
