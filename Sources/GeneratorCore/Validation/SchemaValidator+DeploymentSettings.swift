import Foundation

/// The secrets and the configuration sections of the deployment: every service, named port and secret they
/// name exists, the service that needs a secret mounts it, and values have the syntax their tool expects.
extension SchemaValidator {
    /// Checks how secrets are generated; returns the secrets other secrets refer to (so they count as used).
    mutating func checkSecrets() -> Set<String> {
        let secrets = schema.deployment.secrets
        var referenced = Set<String>()
        var files: [String: String] = [:]
        for secret in secrets {
            if let other = files[secret.file] {
                diagnostics.error("secret '\(secret.name)' is stored in '\(secret.file)', like secret '\(other)'", at: secret.location)
            }
            files[secret.file] = secret.name
            if secret.file.hasPrefix("/") || secret.file.split(separator: "/").contains("..") || secret.file.hasPrefix("deploy/generated/") {
                diagnostics.error(
                    "secret '\(secret.name)' must live inside the project, outside deploy/generated/ (found '\(secret.file)')",
                    at: secret.location)
            }
            func expect(_ reference: Located<String>, kind: String, role: String) {
                referenced.insert(reference.value)
                guard let target = schema.deployment.secret(named: reference.value) else {
                    diagnostics.error(
                        "\(role) of secret '\(secret.name)' is '\(reference.value)', which is not declared under 'secrets:'\(NameSuggestion.hint(for: reference.value, in: secrets.map(\.name)))",
                        at: reference.location)
                    return
                }
                if target.generator.keyword != kind {
                    diagnostics.error(
                        "\(role) of secret '\(secret.name)' is '\(reference.value)', which is generated as \(target.generator.keyword), not \(kind)",
                        at: reference.location)
                }
            }
            switch secret.generator {
            case .rsaPublicKey(let of):
                expect(of, kind: "rsa_private_key", role: "the private key")
            case .passwordMap(let of, _):
                expect(of, kind: "password", role: "the password")
            case .tlsCertificate(let key, let ca, _):
                expect(key, kind: "tls_private_key", role: "the key")
                if let ca { expect(ca, kind: "tls_ca", role: "the CA") }
            default:
                break
            }
        }
        return referenced
    }

    /// Checks the proxy, postgres, redis, rabbitmq, backups and monitoring sections; returns the volumes they use.
    mutating func checkDeploymentSettings() -> Set<String> {
        let deployment = schema.deployment
        var usedVolumes = Set<String>()
        var dockerfiles: [String: String] = [:]
        for image in deployment.images {
            guard let dockerfile = image.dockerfile else { continue }
            if dockerfile.hasPrefix("/") || dockerfile.split(separator: "/").contains("..") {
                diagnostics.error("the Dockerfile of image '\(image.name)' must be a path inside the project (found '\(dockerfile)')", at: image.location)
            }
            if let other = dockerfiles.updateValue(image.name, forKey: dockerfile) {
                diagnostics.error("images '\(other)' and '\(image.name)' have the same Dockerfile '\(dockerfile)'", at: image.location)
            }
        }
        if let proxy = deployment.proxy {
            let what = "the proxy settings"
            if let service = requireService(proxy.service, what) {
                requirePort(proxy.statusPort, of: service, what)
                requireSecret(proxy.certificate, mountedBy: service, what)
                requireSecret(proxy.key, mountedBy: service, what)
                if let dependencies = service.dependsOn,
                   !deployment.environments.contains(where: { environment in
                       dependencies.value(in: environment.name)?.contains { $0.value == proxy.upstream.service.value } == true
                   }) {
                    diagnostics.error("the proxy service '\(service.name)' does not depend on its upstream '\(proxy.upstream.service.value)'",
                                      at: proxy.upstream.service.location)
                }
            }
            requireServicePort(proxy.upstream, what)
            for route in proxy.routes {
                requireServicePort(route.target, "route '\(route.path)' of \(what)")
                if !route.path.hasPrefix("/") || !route.path.hasSuffix("/") {
                    diagnostics.error("route '\(route.path)' of \(what) must start and end with '/'", at: route.target.service.location)
                }
            }
            if let limit = proxy.loginLimit {
                let parts = limit.rate.value.split(separator: "r/")
                if parts.count != 2 || Int(parts[0]) == nil || !["s", "m"].contains(String(parts[1])) {
                    diagnostics.error("the login rate limit '\(limit.rate.value)' is not an nginx rate such as 5r/m or 10r/s", at: limit.rate.location)
                }
            }
        }
        if let postgres = deployment.postgres {
            checkPostgres(postgres)
        }
        if let redis = deployment.redis {
            let what = "the redis settings"
            if let service = requireService(redis.service, what) { requireSecret(redis.password, mountedBy: service, what) }
            let sizes = redis.maxmemory.common.map { [$0] } ?? redis.maxmemory.overrides.keys.sorted().map { redis.maxmemory.overrides[$0]! }
            for size in sizes where !isRedisSize(size) {
                diagnostics.error("maxmemory '\(size)' of \(what) is not a Redis size such as 1536mb or 2gb", at: redis.maxmemory.location)
            }
            // The panel leases' argument (docs/WORKER.md, panel leases) needs both: a lock or fence counter evicted under
            // memory pressure lets a second worker take a panel the first still serves, and an fsync a second late
            // forgets the newest grants on a crash. Memory is watched instead (the RedisMemoryHigh alert).
            if redis.eviction.value != .noeviction {
                diagnostics.error("eviction '\(redis.eviction.value.rawValue)' of \(what) may evict panel leases and fencing counters; use noeviction (the RedisMemoryHigh alert watches memory instead)", at: redis.eviction.location)
            }
            if redis.appendfsync.value != .always {
                diagnostics.error("appendfsync '\(redis.appendfsync.value.rawValue)' of \(what) loses the newest lease grants on a crash; use always", at: redis.appendfsync.location)
            }
            for rule in redis.save {
                let parts = rule.split(separator: " ")
                if parts.count != 2 || parts.contains(where: { Int($0) == nil }) {
                    diagnostics.error("save rule '\(rule)' of \(what) must be '<seconds> <changes>'", at: redis.location)
                }
            }
        }
        if let rabbitmq = deployment.rabbitmq { checkRabbitMQ(rabbitmq) }
        if let backups = deployment.backups {
            let what = "the backups settings"
            usedVolumes.insert(backups.mediaVolume.value)
            if !deployment.volumes.contains(where: { $0.name == backups.mediaVolume.value }) {
                diagnostics.error(
                    "the media volume of \(what) is '\(backups.mediaVolume.value)', which is not declared under 'volumes:'\(NameSuggestion.hint(for: backups.mediaVolume.value, in: deployment.volumes.map(\.name)))",
                    at: backups.mediaVolume.location)
            }
            if let service = requireService(backups.service, what), let postgres = deployment.postgres {
                requireSecret(postgres.password, mountedBy: service, what)
                // pg_dump verifies the Patroni node's certificate (verify-full) against this CA.
                if let patroni = postgres.patroni { requireSecret(patroni.tls.ca, mountedBy: service, what) }
            }
            if backups.databaseEverySeconds < 60 || backups.mediaEverySeconds < 60 || backups.databaseKeep < 1 {
                diagnostics.error("\(what) need intervals of at least 1m and keep at least 1 dump", at: backups.location)
            }
            if !backups.nas.hasPrefix("/") {
                diagnostics.error("the NAS directory of \(what) must be an absolute host path, found '\(backups.nas)'", at: backups.location)
            }
        }
        if let monitoring = deployment.monitoring {
            let what = "the monitoring settings"
            _ = requireService(monitoring.prometheus, what)
            if let grafana = monitoring.grafana { _ = requireService(grafana, what) }
            if monitoring.replicationLagWarningSeconds >= monitoring.replicationLagCriticalSeconds {
                diagnostics.error("the replication lag warning (\(monitoring.replicationLagWarningSeconds) s) must be below the critical level (\(monitoring.replicationLagCriticalSeconds) s)",
                                  at: monitoring.location)
            }
        }
        return usedVolumes
    }

    private mutating func checkPostgres(_ postgres: PostgresSettings) {
        let what = "the postgres settings"
        let deployment = schema.deployment
        if let patroni = postgres.patroni {
            var nodeServices: [ServiceDeclaration] = []
            for node in patroni.nodes {
                guard let service = requireService(node, "the patroni settings") else { continue }
                nodeServices.append(service)
                for secret in [postgres.password, patroni.superuserPassword, patroni.replicationPassword, patroni.apiPassword,
                               patroni.tls.ca, patroni.tls.certificate, patroni.tls.key] {
                    requireSecret(secret, mountedBy: service, "the patroni settings")
                }
                for secret in [patroni.dcsTLS?.ca, patroni.dcsTLS?.certificate, patroni.dcsTLS?.key].compactMap({ $0 }) {
                    requireSecret(secret, mountedBy: service, "the dcs_tls of the patroni settings")
                }
                if service.port(named: "postgres") == nil || service.port(named: "patroni") == nil {
                    diagnostics.error("Patroni node '\(service.name)' needs the named ports 'postgres' and 'patroni'", at: node.location)
                }
                if let pgbouncer = postgres.pgbouncer { requireSecret(pgbouncer.adminPassword, mountedBy: service, "the patroni settings") }
            }
            if let first = nodeServices.first {
                for service in nodeServices.dropFirst() {
                    for environment in deployment.environments where service.runs(in: environment.name) != first.runs(in: environment.name)
                        || (service.instances.value(in: environment.name) ?? 0) > 1 {
                        diagnostics.error(
                            "Patroni nodes must run together, one instance each: '\(service.name)' and '\(first.name)' differ in environment '\(environment.name)'",
                            at: service.location)
                    }
                }
            }
            requireServicePort(patroni.dcs, "the patroni settings")
            if case .tlsCertificate(_, let ca, let names) = deployment.secret(named: patroni.tls.certificate.value)?.generator {
                for node in nodeServices where !names.contains(node.name) {
                    diagnostics.error(
                        "the PostgreSQL certificate '\(patroni.tls.certificate.value)' does not name node '\(node.name)'; replication verifies host names (verify-full)",
                        at: patroni.tls.certificate.location)
                }
                if ca?.value != patroni.tls.ca.value {
                    diagnostics.error(
                        "the PostgreSQL certificate '\(patroni.tls.certificate.value)' must be signed by the CA '\(patroni.tls.ca.value)' that replication verifies against",
                        at: patroni.tls.certificate.location)
                }
            }
            if let dcsTLS = patroni.dcsTLS,
               case .tlsCertificate(_, let ca, _) = deployment.secret(named: dcsTLS.certificate.value)?.generator, ca?.value != dcsTLS.ca.value {
                diagnostics.error(
                    "the DCS client certificate '\(dcsTLS.certificate.value)' must be signed by the CA '\(dcsTLS.ca.value)' that etcd trusts for clients",
                    at: dcsTLS.certificate.location)
            }
            if patroni.ttl < 20 {
                // patroni --validate-config refuses it ("bootstrap.dcs.ttl ... Wrong value"), at the first start.
                diagnostics.error("Patroni refuses a ttl below 20 seconds (found \(patroni.ttl)); lower loop_wait for a faster failover",
                                  at: postgres.location)
            }
            if patroni.loopWait + 2 * patroni.retryTimeout > patroni.ttl {
                diagnostics.error(
                    "Patroni needs loop_wait + 2 * retry_timeout <= ttl (found \(patroni.loopWait) + 2 * \(patroni.retryTimeout) > \(patroni.ttl))",
                    at: postgres.location)
            }
        }
        if let pgbouncer = postgres.pgbouncer, let service = requireService(pgbouncer.service, "the pgbouncer settings") {
            requireSecret(postgres.password, mountedBy: service, "the pgbouncer settings")
            requireSecret(pgbouncer.adminPassword, mountedBy: service, "the pgbouncer settings")
            if service.port(named: "pgbouncer") == nil {
                diagnostics.error("the pgbouncer service '\(service.name)' needs the named port 'pgbouncer'", at: pgbouncer.service.location)
            }
            if let patroni = postgres.patroni { requireSecret(patroni.tls.ca, mountedBy: service, "the pgbouncer settings") }
            if let tls = pgbouncer.clientTLS {
                requireSecret(tls.certificate, mountedBy: service, "the client_tls of the pgbouncer settings")
                requireSecret(tls.key, mountedBy: service, "the client_tls of the pgbouncer settings")
                // The clients verify it against the PostgreSQL CA (the one CA file the services mount) and its name.
                if case .tlsCertificate(_, let ca, let names) = deployment.secret(named: tls.certificate.value)?.generator {
                    if !names.contains(service.name) {
                        diagnostics.error(
                            "PgBouncer's certificate '\(tls.certificate.value)' does not name '\(service.name)'; its clients verify the host name (verify-full)",
                            at: tls.certificate.location)
                    }
                    if let patroni = postgres.patroni, ca?.value != patroni.tls.ca.value {
                        diagnostics.error(
                            "PgBouncer's certificate '\(tls.certificate.value)' must be signed by the PostgreSQL CA '\(patroni.tls.ca.value)' its clients verify against",
                            at: tls.certificate.location)
                    }
                }
            }
        }
        if postgres.database.isEmpty || postgres.user.isEmpty {
            diagnostics.error("\(what) need a database and a user", at: postgres.location)
        }
    }

    private func isRedisSize(_ text: String) -> Bool {
        let lowered = text.lowercased()
        for unit in ["kb", "mb", "gb", "k", "m", "g"] where lowered.hasSuffix(unit) {
            return Int(lowered.dropLast(unit.count)).map { $0 > 0 } ?? false
        }
        return Int(lowered).map { $0 > 0 } ?? false
    }

    @discardableResult
    /// The broker's users: their passwords are secrets the broker mounts, what they consume and publish exists,
    /// and every service that talks to the broker (`RABBITMQ_URL`) logs in as a declared user, with that user's
    /// password file, and only checks the topology the broker loaded (`RABBITMQ_TOPOLOGY: verify`): its user
    /// may not declare it.
    private mutating func checkRabbitMQ(_ rabbitmq: RabbitMQSettings) {
        let what = "the rabbitmq settings"
        let broker = requireService(rabbitmq.service, what)
        if rabbitmq.users.isEmpty { diagnostics.error("\(what) declare no user; every client needs one", at: rabbitmq.location) }
        if let broker, let cookie = rabbitmq.erlangCookie { requireSecret(cookie, mountedBy: broker, "the erlang_cookie of \(what)") }
        let queues = schema.queues.map(\.name)
        let exchanges = schema.exchanges.map(\.name)
        for user in rabbitmq.users {
            let owner = "RabbitMQ user '\(user.name)'"
            if let broker { requireSecret(user.password, mountedBy: broker, owner) }
            for queue in user.consumes where !queues.contains(queue.value) {
                diagnostics.error("\(owner) consumes queue '\(queue.value)', which schema/queues.yaml does not declare\(NameSuggestion.hint(for: queue.value, in: queues))",
                                  at: queue.location)
            }
            for exchange in user.publishes where !exchanges.contains(exchange.value) {
                diagnostics.error("\(owner) publishes to exchange '\(exchange.value)', which schema/queues.yaml does not declare\(NameSuggestion.hint(for: exchange.value, in: exchanges))",
                                  at: exchange.location)
            }
        }
        for service in schema.deployment.services {
            guard let url = service.environment.first(where: { $0.name.value == "RABBITMQ_URL" }) else { continue }
            let owner = "service '\(service.name)'"
            for text in url.value.writtenValues {
                guard let name = URLComponents(string: text)?.user, let user = rabbitmq.user(named: name) else {
                    diagnostics.error(
                        "RABBITMQ_URL '\(text)' of \(owner) names no user of the rabbitmq settings\(NameSuggestion.hint(for: URLComponents(string: text)?.user ?? "", in: rabbitmq.users.map(\.name)))",
                        at: url.name.location)
                    continue
                }
                let file = "/run/secrets/\(user.password.value)"
                let passwordFile = service.environment.first { $0.name.value == "RABBITMQ_PASSWORD_FILE" }
                if passwordFile?.value.common != file || passwordFile?.value.overrides.isEmpty == false {
                    diagnostics.error("\(owner) logs in to RabbitMQ as '\(user.name)': give it RABBITMQ_PASSWORD_FILE: \(file) and the secret '\(user.password.value)'",
                                      at: url.name.location)
                }
                let topology = service.environment.first { $0.name.value == "RABBITMQ_TOPOLOGY" }
                if topology?.value.common != "verify" || topology?.value.overrides.isEmpty == false {
                    diagnostics.error("\(owner) needs RABBITMQ_TOPOLOGY: verify: the broker loads the topology at boot and user '\(user.name)' may not declare it",
                                      at: url.name.location)
                }
            }
        }
    }

    private mutating func requireService(_ name: Located<String>, _ what: String) -> ServiceDeclaration? {
        if let service = schema.deployment.service(named: name.value) { return service }
        diagnostics.error(
            "\(what) name service '\(name.value)', which is not declared under 'services:'\(NameSuggestion.hint(for: name.value, in: schema.deployment.services.map(\.name)))",
            at: name.location)
        return nil
    }

    private mutating func requirePort(_ port: Located<String>, of service: ServiceDeclaration, _ what: String) {
        if service.port(named: port.value) == nil {
            diagnostics.error(
                "\(what) name port '\(port.value)' of service '\(service.name)', which has no such named port\(NameSuggestion.hint(for: port.value, in: service.ports.map(\.name.value)))",
                at: port.location)
        }
    }

    private mutating func requireServicePort(_ reference: ServicePort, _ what: String) {
        if let service = requireService(reference.service, what) { requirePort(reference.port, of: service, what) }
    }

    private mutating func requireSecret(_ secret: Located<String>, mountedBy service: ServiceDeclaration, _ what: String) {
        guard schema.deployment.secret(named: secret.value) != nil else {
            diagnostics.error(
                "secret '\(secret.value)' of \(what) is not declared under 'secrets:'\(NameSuggestion.hint(for: secret.value, in: schema.deployment.secrets.map(\.name)))",
                at: secret.location)
            return
        }
        if !service.secrets.contains(where: { $0.value == secret.value }) {
            diagnostics.error("service '\(service.name)' needs secret '\(secret.value)' (\(what)) but does not list it in its 'secrets'",
                              at: secret.location)
        }
    }
}
