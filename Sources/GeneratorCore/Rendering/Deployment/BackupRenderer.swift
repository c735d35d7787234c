/// `deploy/generated/backup/`: `stam-backup` (the scheduler and the jobs, baked into the stam-backup
/// image) and backup.conf (what the `backups:` section says, mounted at /etc/stam-backup.conf).
///
/// The database job dumps the current primary (libpq multi-host with target_session_attrs=read-write,
/// so a failover needs no change) with pg_dump -Fc into the backups volume, checks the archive, copies it
/// to the NAS and keeps the newest dumps locally. The media job copies the media volume to the NAS with
/// rsync, never deleting there. `stam-backup restore` is the documented restore (docs/DEPLOYMENT.md).
struct BackupRenderer: DeploymentComponentRenderer {
    static let templateNames = ["stam-backup.sh", "backup.conf"]
    static let configPath = "/etc/stam-backup.conf"
    static let nasMount = "/nas"
    static let nasVariable = "STAM_NAS_DIR"

    let schema: Schema
    let templates: DeploymentTemplates

    struct ConfigView {
        var hosts: String
        var ports: String
        var database: String
        var user: String
        var passwordFile: String
        /// libpq's TLS options when the nodes are Patroni's (they refuse the application role without TLS).
        var tlsOptions: String
        var databaseEvery: Int
        var databaseKeep: Int
        var mediaEvery: Int
        var backupDirectory: String
        var mediaDirectory: String
        var nasDirectory: String
        var environment: String
    }

    func environments() -> [String] {
        guard let service = schema.deployment.backups.flatMap({ schema.deployment.service(named: $0.service.value) }) else { return [] }
        return schema.deployment.environments.map(\.name).filter { service.runs(in: $0) }
    }

    func render() -> [GeneratedFile] {
        let environments = environments()
        guard !environments.isEmpty else { return [] }
        var files = [DeploymentRenderer.hashFile("backup/stam-backup.sh", templates.render("stam-backup.sh", ["configPath": Self.configPath]))]
        files += outputs().map { DeploymentRenderer.hashFile($0.path, $0.contents) }
        return files
    }

    /// backup.conf per group of environments that back up alike.
    func outputs() -> [EnvironmentFiles.Output] {
        EnvironmentFiles.group(environments(), path: { $0.map { "backup/backup.\($0).conf" } ?? "backup/backup.conf" }) { environment, label in
            config(in: environment, label: label).map { templates.render("backup.conf", $0) }
        }
    }

    func wire(into wiring: inout ComposeWiring) {
        guard let backups = schema.deployment.backups else { return }
        for output in outputs() {
            for environment in output.environments {
                wiring.mount(output.path, at: Self.configPath, service: backups.service.value, environment: environment)
            }
        }
        for environment in environments() {
            wiring.hostMount("\(TemplateValues.variable(Self.nasVariable, default: backups.nas)):\(Self.nasMount)",
                             service: backups.service.value, environment: environment)
        }
    }

    /// The database is reached where the application reaches it: the Patroni nodes (whichever is primary),
    /// or the single database service of an environment without Patroni.
    func config(in environment: String, label: String) -> ConfigView? {
        let deployment = schema.deployment
        guard let backups = deployment.backups, let postgres = deployment.postgres,
              let service = deployment.service(named: backups.service.value) else { return nil }
        var nodes = (postgres.patroni?.nodes ?? []).compactMap { deployment.service(named: $0.value) }.filter { $0.runs(in: environment) }
        if nodes.isEmpty {
            nodes = deployment.services.filter { $0.runs(in: environment) && $0.image.value.hasPrefix("postgres:") }
        }
        let mediaTarget = service.volumes.map(\.value).first { $0.hasPrefix("\(backups.mediaVolume.value):") }
            .map { String($0.split(separator: ":")[1]) } ?? "/media"
        let backupTarget = service.volumes.map(\.value).first { $0.hasPrefix("backups:") }.map { String($0.split(separator: ":")[1]) } ?? "/backups"
        return ConfigView(
            hosts: nodes.map(\.name).joined(separator: ","), ports: nodes.map { String($0.port(named: "postgres") ?? 5432) }.joined(separator: ","),
            database: postgres.database, user: postgres.user, passwordFile: "/run/secrets/\(postgres.password.value)",
            tlsOptions: postgres.patroni.map { "sslmode=verify-full sslrootcert=/run/secrets/\($0.tls.ca.value)" } ?? "",
            databaseEvery: backups.databaseEverySeconds, databaseKeep: backups.databaseKeep, mediaEvery: backups.mediaEverySeconds,
            backupDirectory: backupTarget, mediaDirectory: mediaTarget, nasDirectory: Self.nasMount, environment: label)
    }
}
