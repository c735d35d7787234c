import Foundation
import DevStack
import Testing
import TestSupport

/// PostgreSQL HA as generated, on the container engine: etcd, the two Patroni nodes (the stam-patroni image,
/// PyPI Patroni) and PgBouncer, each the generated prod service with its configuration files, entrypoints and
/// secrets. Checks that Patroni accepts both files, that the cluster bootstraps (TLS, the application role),
/// that the replica becomes the synchronous standby, and that PgBouncer follows the primary through a switchover
/// by the Patroni callback alone. (ProdStackTests kill the primary's container in the whole stack.)
@Suite(.serialized, .integration, .tags(.integration)) struct PatroniPgBouncerTests {
    @Test func pgbouncerFollowsThePrimaryThroughASwitchover() async throws {
        let services = try await GeneratedServices.make("patroni")
        defer { services.remove() }
        func secret(_ name: String) throws -> String {
            guard let value = services.secrets[name] else { throw ToolError(description: "no secret \(name)") }
            return value.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        func exec(_ service: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> (Int32, String) {
            try await services.exec(service, arguments, environment: environment)
        }

        try await services.up(["etcd"])
        // etcd speaks TLS only and answers only clients whose certificate its CA signed (the Patroni nodes').
        let ca = "--cacert=/run/secrets/etcd_tls_ca"
        let client = ["--cert=/run/secrets/etcd_client_certificate", "--key=/run/secrets/etcd_client_private_key"]
        func etcdctl(_ endpoint: String, _ options: [String], _ command: [String]) async throws -> Int32 {
            try await exec("etcd", ["etcdctl", "--endpoints=\(endpoint)", "--dial-timeout=3s", "--command-timeout=5s"] + options + command).0
        }
        try await services.waitUntil("etcd answers", log: "etcd") {
            try await etcdctl("https://localhost:2379", [ca] + client, ["endpoint", "health"]) == 0
        }
        #expect(try await etcdctl("https://localhost:2379", [ca] + client, ["put", "/stam-test/key", "written"]) == 0)
        #expect(try await etcdctl("https://localhost:2379", [ca], ["put", "/stam-test/key", "without a certificate"]) != 0)
        #expect(try await etcdctl("https://localhost:2379", [ca], ["get", "/stam-test/key"]) != 0)
        #expect(try await etcdctl("http://localhost:2379", [], ["put", "/stam-test/key", "in plain text"]) != 0)

        // `patroni --validate-config` accepts both generated files, in the image that runs them, on the project's
        // network with etcd up (it also checks that the ports are free: before the nodes start); the passwords where
        // the entrypoint puts them.
        let network = "\(services.project.name)_consensus"  // where the nodes reach etcd
        for node in ["pg-primary", "pg-replica"] {
            let (status, output) = try await ContainerEngine.status(ContainerEngine.podman, [
                "run", "--rm", "--network", network, "--entrypoint", "patroni",
                "-e", "PATRONI_SUPERUSER_PASSWORD=x", "-e", "PATRONI_REPLICATION_PASSWORD=x", "-e", "PATRONI_REWIND_PASSWORD=x",
                "-e", "PATRONI_RESTAPI_PASSWORD=x", "-v", "\(DeploymentTools.generated)/patroni/\(node).yml:/etc/patroni/patroni.yml:ro",
                "localhost/stam-patroni:latest", "--validate-config", "/etc/patroni/patroni.yml",
            ])
            #expect(status == 0, "patroni --validate-config \(node): \(output)")
        }

        // The primary bootstraps the cluster; its on_start callback points PgBouncer at it.
        try await services.up(["pg-primary"])
        try await services.waitUntil("pg-primary is the primary", timeout: .seconds(120), log: "pg-primary") {
            try await exec("pg-primary", ["curl", "-fsS", "-o", "/dev/null", "http://pg-primary:8008/primary"]).0 == 0
        }
        // Patroni reached etcd with its client certificate. From its container, over the network, only that certificate
        // opens etcd: the node's PostgreSQL certificate (another CA's) does not, nor does none.
        func readsEtcd(_ certificate: [String]) async throws -> Bool {
            try await exec("pg-primary", ["curl", "-fsS", "-o", "/dev/null", "--max-time", "5", "--cacert", "/run/secrets/etcd_tls_ca"] + certificate
                           + ["-X", "POST", "https://etcd:2379/v3/kv/range", "-d", #"{"key":"L3N0YW0tdGVzdC9rZXk="}"#]).0 == 0
        }
        #expect(try await readsEtcd(["--cert", "/run/secrets/etcd_client_certificate", "--key", "/run/secrets/etcd_client_private_key"]))
        #expect(try await !readsEtcd(["--cert", "/run/secrets/postgres_tls_certificate", "--key", "/run/secrets/postgres_tls_private_key"]))
        #expect(try await !readsEtcd([]))
        try await services.waitUntil("the callback wrote PgBouncer's target", log: "pg-primary") {
            try await exec("pg-primary", ["cat", "/etc/pgbouncer/target/databases.ini"]).1.contains("host=pg-primary port=5432")
        }

        try await services.up(["pgbouncer"])
        let application = ["PGPASSWORD": try secret("postgres_password")]
        func throughPgBouncer(_ sql: String) async throws -> (Int32, String) {
            let (status, output) = try await exec("pg-primary", ["psql", "host=pgbouncer port=6432 dbname=stam user=app", "-XAtq", "-v", "ON_ERROR_STOP=1",
                                                                 "-c", sql], environment: application)
            return (status, output.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        try await services.waitUntil("the application writes through PgBouncer", log: "pgbouncer") {
            try await throughPgBouncer("CREATE TABLE IF NOT EXISTS alarms (id int PRIMARY KEY)").0 == 0
        }
        #expect(try await throughPgBouncer("INSERT INTO alarms VALUES (1); SELECT inet_server_port(), pg_is_in_recovery()").1 == "5432|f")
        // PgBouncer reaches PostgreSQL over TLS (server_tls_sslmode = verify-full).
        #expect(try await throughPgBouncer("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").1 == "t")

        // The replica clones the primary and streams from it over TLS, verifying the host name, and becomes the
        // synchronous standby (synchronous_mode).
        try await services.up(["pg-replica"])
        let superuser = ["PGPASSWORD": try secret("postgres_superuser_password"), "PGSSLMODE": "require"]
        try await services.waitUntil("pg-replica streams over TLS", timeout: .seconds(120), log: "pg-replica") {
            try await exec("pg-primary", ["psql", "host=pg-primary port=5432 dbname=postgres user=postgres", "-XAtc",
                                          "SELECT r.application_name, r.state, s.ssl FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid)"],
                           environment: superuser).1.contains("pg-replica|streaming|t")
        }
        try await services.waitUntil("pg-replica is the synchronous standby", log: "pg-replica") {
            try await exec("pg-replica", ["curl", "-fsS", "-o", "/dev/null", "http://pg-replica:8009/sync"]).0 == 0
        }

        // Switchover: pg-replica becomes the primary. Nothing but its callback tells PgBouncer.
        let switchover = try await exec("pg-primary", ["patronictl", "-c", "/etc/patroni/patroni.yml", "switchover", "--leader", "pg-primary",
                                                       "--candidate", "pg-replica", "--force"],
                                        environment: ["PATRONI_RESTAPI_PASSWORD": try secret("patroni_api_password")])
        #expect(switchover.0 == 0, "\(switchover.1)")
        try await services.waitUntil("PgBouncer reaches the new primary", log: "pg-replica") {
            let (status, output) = try await throughPgBouncer("SELECT inet_server_port(), pg_is_in_recovery()")
            return status == 0 && output == "5433|f"
        }
        #expect(try await exec("pgbouncer", ["cat", "/etc/pgbouncer/target/databases.ini"]).1.contains("host=pg-replica port=5433"))
        #expect(await services.logs("pg-replica").contains("PgBouncer reloaded"))
        let after = try await throughPgBouncer("INSERT INTO alarms VALUES (2); SELECT count(*) FROM alarms")
        #expect(after.0 == 0 && after.1 == "2", "\(after.1)")
    }
}
