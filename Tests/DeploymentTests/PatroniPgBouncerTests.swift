import Foundation
import Generated
import LocalStack
import Secrets
import Testing
import Yams

/// PostgreSQL HA as generated: etcd, two Patroni nodes (PyPI Patroni >= 3.0.3) and PgBouncer, each in
/// its own "container" of a `NamespaceBed`, running the generated configuration files and entrypoints as
/// they are. Checks that Patroni accepts both files, that the cluster bootstraps (TLS, the application
/// role), and that PgBouncer follows the primary through a switchover by the Patroni callback alone.
@Suite(.serialized) struct PatroniPgBouncerTests {
    @Test func pgbouncerFollowsThePrimaryThroughASwitchover() async throws {
        let patroniEnvironment = try DeploymentTools.patroniEnvironment()
        _ = try DeploymentTools.tool("/usr/bin/etcd")
        _ = try DeploymentTools.tool("/usr/sbin/pgbouncer")
        _ = try DeploymentTools.tool("/usr/lib/postgresql/15/bin/postgres")
        let directory = try DeploymentTools.temporaryDirectory("patroni")
        let bed = try NamespaceBed(directory: directory, hostNames: ["etcd", "pg-primary", "pg-replica", "pgbouncer"])
        defer {
            bed.stop()
            if ProcessInfo.processInfo.environment["STAM_KEEP_TEST_DIRECTORIES"] == nil { try? FileManager.default.removeItem(atPath: directory) }
        }
        let secrets = try Self.secrets(in: directory)

        let bin = try Self.binDirectory(in: directory, pythonPath: patroniEnvironment["PYTHONPATH"] ?? "")
        let shared = "\(directory)/etc-pgbouncer"
        try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
        try DeploymentTools.read("pgbouncer/pgbouncer.ini").write(toFile: "\(shared)/pgbouncer.ini", atomically: true, encoding: .utf8)

        // etcd with the compose command of the etcd service (only the data directory differs).
        let etcdContainer = try bed.container("etcd")
        var etcdCommand = try Self.composeCommand(of: "etcd")
        etcdCommand[etcdCommand.firstIndex(of: "--data-dir")! + 1] = "\(directory)/etcd-data"
        etcdCommand[0] = try DeploymentTools.tool("/usr/bin/etcd")
        _ = try bed.start("etcd", in: etcdContainer, etcdCommand)
        try await waitUntil("etcd answers", bed: bed, log: "etcd") {
            try bed.status(in: etcdContainer, ["/usr/bin/etcdctl", "--endpoints=http://etcd:2379", "endpoint", "health"]).0 == 0
        }

        func node(_ name: String) throws -> (NamespaceBed.Container, String) {
            let data = "\(directory)/\(name)-data"
            try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
            let config = "\(directory)/\(name).yml"
            try DeploymentTools.read("patroni/\(name).yml").write(toFile: config, atomically: true, encoding: .utf8)
            let container = try bed.container(name, secrets: secrets,
                                              binds: [(data, "/var/lib/postgresql"), (shared, "/etc/pgbouncer"), (bin, "/usr/local/bin")])
            return (container, config)
        }
        let (primary, primaryConfig) = try node("pg-primary")
        let (replica, replicaConfig) = try node("pg-replica")

        // patroni --validate-config on both files, with etcd reachable under its service name and the
        // passwords where the entrypoint puts them.
        var validation = patroniEnvironment
        validation["PATRONI_SUPERUSER_PASSWORD"] = "x"
        validation["PATRONI_REPLICATION_PASSWORD"] = "x"
        validation["PATRONI_REWIND_PASSWORD"] = "x"
        validation["PATRONI_RESTAPI_PASSWORD"] = "x"
        for (container, config) in [(primary, primaryConfig), (replica, replicaConfig)] {
            let (status, output) = try bed.status(in: container, ["/usr/bin/python3", "-m", "patroni", "--validate-config", config],
                                                  environment: validation)
            #expect(status == 0, "patroni --validate-config \(container.name): \(output)")
        }

        // The primary bootstraps the cluster; its on_start callback points PgBouncer at it.
        _ = try bed.start("pg-primary", in: primary, ["/usr/local/bin/stam-patroni-entrypoint", "patroni", primaryConfig])
        try await waitUntil("pg-primary is the primary", timeout: .seconds(120), bed: bed, log: "pg-primary") {
            try bed.status(in: primary, ["/usr/bin/curl", "-fsS", "-o", "/dev/null", "http://pg-primary:8008/primary"]).0 == 0
        }
        try await waitUntil("the callback wrote PgBouncer's target", bed: bed, log: "pg-primary") {
            (try? String(contentsOfFile: "\(shared)/target/databases.ini", encoding: .utf8))?.contains("host=pg-primary port=5432") == true
        }

        let pgbouncerContainer = try bed.container("pgbouncer", secrets: secrets, binds: [(shared, "/etc/pgbouncer"), (bin, "/usr/local/bin")])
        _ = try bed.start("pgbouncer", in: pgbouncerContainer,
                          ["/usr/local/bin/stam-pgbouncer-entrypoint", "/usr/sbin/pgbouncer", "/etc/pgbouncer/pgbouncer.ini"])
        func throughPgBouncer(_ sql: String) throws -> (Int32, String) {
            try bed.status(in: pgbouncerContainer, ["/usr/bin/psql", "host=pgbouncer port=6432 dbname=stam user=app", "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql],
                           environment: ["PGPASSWORD": secrets["postgres_password"]!, "PATH": "/usr/bin:/bin"])
        }
        try await waitUntil("the application writes through PgBouncer", bed: bed, log: "pgbouncer") {
            try throughPgBouncer("CREATE TABLE IF NOT EXISTS alarms (id int PRIMARY KEY)").0 == 0
        }
        #expect(try throughPgBouncer("INSERT INTO alarms VALUES (1); SELECT inet_server_port(), pg_is_in_recovery()").1
                    .trimmingCharacters(in: .whitespacesAndNewlines) == "5432|f")
        // PgBouncer reaches PostgreSQL over TLS (server_tls_sslmode = verify-full).
        #expect(try throughPgBouncer("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").1.contains("t"))

        // The replica clones the primary and streams from it over TLS, verifying the host name, and
        // becomes the synchronous standby (synchronous_mode).
        _ = try bed.start("pg-replica", in: replica, ["/usr/local/bin/stam-patroni-entrypoint", "patroni", replicaConfig])
        let superuser = ["PGPASSWORD": secrets["postgres_superuser_password"]!, "PGSSLMODE": "require", "PATH": "/usr/bin:/bin"]
        try await waitUntil("pg-replica streams over TLS", timeout: .seconds(120), bed: bed, log: "pg-replica") {
            let streaming = try bed.run(in: primary, ["/usr/bin/psql", "host=pg-primary port=5432 dbname=postgres user=postgres", "-XAtc",
                                                      "SELECT r.application_name, r.state, s.ssl FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid)"],
                                        environment: superuser)
            return streaming.contains("pg-replica|streaming|t")
        }
        try await waitUntil("pg-replica is the synchronous standby", bed: bed, log: "pg-replica") {
            try bed.status(in: replica, ["/usr/bin/curl", "-fsS", "-o", "/dev/null", "http://pg-replica:8009/sync"]).0 == 0
        }

        // Switchover: pg-replica becomes the primary. Nothing but its callback tells PgBouncer.
        var api = patroniEnvironment
        api["PATRONI_RESTAPI_PASSWORD"] = secrets["patroni_api_password"]!
        let switchover = try bed.status(in: primary, ["/usr/local/bin/patronictl", "-c", primaryConfig, "switchover",
                                                      "--leader", "pg-primary", "--candidate", "pg-replica", "--force"], environment: api)
        #expect(switchover.0 == 0, "\(switchover.1)")
        try await waitUntil("PgBouncer reaches the new primary", timeout: .seconds(90), bed: bed, log: "pg-replica") {
            let (status, output) = try throughPgBouncer("SELECT inet_server_port(), pg_is_in_recovery()")
            return status == 0 && output.trimmingCharacters(in: .whitespacesAndNewlines) == "5433|f"
        }
        #expect(try String(contentsOfFile: "\(shared)/target/databases.ini", encoding: .utf8).contains("host=pg-replica port=5433"))
        #expect(bed.log("pg-replica").contains("PgBouncer reloaded"))
        let after = try throughPgBouncer("INSERT INTO alarms VALUES (2); SELECT count(*) FROM alarms")
        #expect(after.0 == 0 && after.1.trimmingCharacters(in: .whitespacesAndNewlines) == "2", "\(after.1)")
    }

    /// Polls a condition; on timeout the failure shows the end of the named log.
    private func waitUntil(_ what: String, timeout: Duration = .seconds(60), bed: NamespaceBed, log: String,
                           _ condition: () throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? condition()) == true { return }
            try await Task.sleep(for: .milliseconds(500))
        }
        let tail = bed.log(log).split(separator: "\n").suffix(30).joined(separator: "\n")
        throw ToolError(description: "timed out waiting until \(what); \(log).log ends with:\n\(tail)")
    }

    /// The secrets as `stam secrets init` makes them (SecretsInitializer over the generated StamSecrets):
    /// the passwords, the internal CA and the certificate of both nodes.
    static func secrets(in directory: String) throws -> [String: String] {
        let root = "\(directory)/project"
        _ = try SecretsInitializer(specifications: StamSecrets.all).run(root: root, owner: nil, onlyMissing: false)
        var secrets: [String: String] = [:]
        for specification in StamSecrets.all {
            secrets[specification.name] = try String(contentsOfFile: "\(root)/\(specification.file)", encoding: .utf8)
        }
        return secrets
    }

    /// /usr/local/bin of the stam-patroni and stam-pgbouncer images: the generated scripts under the names
    /// their Dockerfiles give them, and `patroni`/`patronictl` running the PyPI Patroni of .tools/python.
    static func binDirectory(in directory: String, pythonPath: String) throws -> String {
        let bin = "\(directory)/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let scripts = [
            "stam-patroni-entrypoint": "patroni/entrypoint.sh", "stam-post-bootstrap": "patroni/post-bootstrap.sh",
            "stam-pgbouncer-follow-primary": "patroni/pgbouncer-follow-primary.sh", "stam-pgbouncer-entrypoint": "pgbouncer/entrypoint.sh",
        ]
        var files = try scripts.mapValues { try DeploymentTools.read($0) }
        files["patroni"] = "#!/bin/sh\nPYTHONPATH=\(pythonPath) exec /usr/bin/python3 -m patroni \"$@\"\n"
        files["patronictl"] = "#!/bin/sh\nPYTHONPATH=\(pythonPath) exec /usr/bin/python3 -c 'from patroni.ctl import ctl; ctl()' \"$@\"\n"
        for (name, text) in files {
            try text.write(toFile: "\(bin)/\(name)", atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: "\(bin)/\(name)")
        }
        return bin
    }

    /// The command of a service in the generated production compose file.
    static func composeCommand(of service: String) throws -> [String] {
        let compose = try Yams.load(yaml: try DeploymentTools.read("docker-compose.prod.yml")) as? [String: Any]
        let services = compose?["services"] as? [String: [String: Any]]
        guard let command = services?[service]?["command"] as? [String] else { throw ToolError(description: "no command for \(service)") }
        return command
    }
}
