import Foundation

/// `deploy/generated/pgbouncer/`: pgbouncer.ini (transaction pooling; the `[databases]` target is
/// included from the volume the Patroni callback writes) and the entrypoint of the stam-pgbouncer image,
/// which turns the password secrets into PgBouncer's auth_file and writes the first target when there is
/// none yet.
struct PgBouncerRenderer: DeploymentComponentRenderer {
    static let templateNames = ["pgbouncer.ini", "pgbouncer-entrypoint.sh", "pgbouncer-kubernetes-entrypoint.sh"]
    static let configPath = "/etc/pgbouncer/pgbouncer.ini"
    static let runDirectory = "/run/pgbouncer"

    let schema: Schema
    let templates: DeploymentTemplates

    struct View {
        var listenPort: Int
        var targetDirectory: String
        var runDirectory: String
        var poolMode: String
        var defaultPoolSize: Int
        var maxClientConnections: Int
        var admin: String
        var appUser: String
        var passwordSecret: String
        var adminSecret: String
        var caSecret: String
        var clientTLS: ClientTLSView?
        var database: String
        var firstHost: String
        var firstPort: Int
        var environment: String
        /// Kubernetes: the Service Patroni points at the primary, named in `[databases]` in place of the include.
        var kubernetesTarget: Target? = nil
    }

    struct Target { var host: String; var port: Int }

    struct ClientTLSView { var certificateSecret: String; var keySecret: String }

    func environments() -> [String] {
        guard let service = schema.deployment.postgres?.pgbouncer.flatMap({ schema.deployment.service(named: $0.service.value) }) else { return [] }
        return schema.deployment.environments.map(\.name).filter { service.runs(in: $0) }
    }

    func render() -> [GeneratedFile] {
        let environments = environments()
        guard let first = environments.first, let view = view(in: first) else { return [] }
        // One file: everything environment-specific in it comes from the Patroni nodes, which run together.
        return [
            DeploymentRenderer.hashFile("pgbouncer/pgbouncer.ini", templates.render("pgbouncer.ini", view)),
            DeploymentRenderer.hashFile("pgbouncer/entrypoint.sh", templates.render("pgbouncer-entrypoint.sh", view)),
        ]
    }

    func wire(into wiring: inout ComposeWiring) {
        guard let pgbouncer = schema.deployment.postgres?.pgbouncer else { return }
        for environment in environments() {
            wiring.mount("pgbouncer/pgbouncer.ini", at: Self.configPath, service: pgbouncer.service.value, environment: environment)
        }
    }

    func view(in environment: String) -> View? {
        let deployment = schema.deployment
        guard let postgres = deployment.postgres, let pgbouncer = postgres.pgbouncer,
              let service = deployment.service(named: pgbouncer.service.value) else { return nil }
        let first = postgres.patroni?.nodes.first.flatMap { deployment.service(named: $0.value) }
        return View(
            listenPort: service.port(named: "pgbouncer") ?? 6432, targetDirectory: PatroniRenderer.targetDirectory,
            runDirectory: Self.runDirectory, poolMode: pgbouncer.poolMode.rawValue, defaultPoolSize: pgbouncer.defaultPoolSize,
            maxClientConnections: pgbouncer.maxClientConnections, admin: PatroniRenderer.pgbouncerAdmin, appUser: postgres.user,
            passwordSecret: postgres.password.value, adminSecret: pgbouncer.adminPassword.value,
            caSecret: postgres.patroni?.tls.ca.value ?? "",
            clientTLS: pgbouncer.clientTLS.map { ClientTLSView(certificateSecret: $0.certificate.value, keySecret: $0.key.value) },
            database: postgres.database,
            firstHost: first?.name ?? "", firstPort: first?.port(named: "postgres") ?? 5432, environment: environment)
    }
}

/// Kubernetes: a Deployment with pgbouncer.ini naming the Service Patroni keeps on the primary (no callback, no
/// shared target volume), and an entrypoint that needs no root (the pod runs as the stam user).
extension PgBouncerRenderer: KubernetesComponent {
    func wire(into wiring: inout KubernetesWiring) {
        let deployment = schema.deployment
        guard let postgres = deployment.postgres, let patroni = postgres.patroni, let pgbouncer = postgres.pgbouncer,
              let service = deployment.service(named: pgbouncer.service.value), let first = environments().first,
              var view = view(in: first) else { return }
        let port = patroni.nodes.first.flatMap { deployment.service(named: $0.value)?.port(named: "postgres") } ?? 5432
        view.environment = "Kubernetes"
        view.kubernetesTarget = Target(host: patroni.scope, port: port)
        let directory = (Self.configPath as NSString).deletingLastPathComponent
        let files = [("pgbouncer.ini", templates.render("pgbouncer.ini", view)),
                     ("entrypoint.sh", templates.render("pgbouncer-kubernetes-entrypoint.sh", view))]
        wiring.wire(service.name) { pod in
            pod.configDirectory = directory
            pod.configs = KubernetesWiring.configs([(environments(), files)])
            pod.command = ["sh", "\(directory)/entrypoint.sh"]
            pod.args = ["pgbouncer", Self.configPath]
            pod.writableDirectories = [Self.runDirectory]
            pod.leftOutVolumes = Set(service.volumes.map { KubernetesRenderer.split($0.value) }
                .filter { $0.path == PatroniRenderer.targetDirectory }.map(\.name))
        }
    }
}
