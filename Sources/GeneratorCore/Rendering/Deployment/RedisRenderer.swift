import Foundation

/// `deploy/generated/redis/redis.<environment>.conf`: persistence AOF + RDB, maxmemory per environment,
/// the eviction policy. The password is a secret file and Redis cannot read one, so the compose command
/// hands it to Redis as configuration on standard input (`redis-server <file> -`, a here-document): never
/// in a process's arguments, which every process on the host may read.
struct RedisRenderer: DeploymentComponentRenderer {
    static let templateNames = ["redis.conf"]
    static let configPath = "/usr/local/etc/redis/redis.conf"

    let schema: Schema
    let templates: DeploymentTemplates

    struct View {
        var environment: String
        var port: Int
        var maxmemory: String
        var eviction: String
        var appendfsync: String
        var save: String
    }

    func environments() -> [String] {
        guard let service = schema.deployment.redis.flatMap({ schema.deployment.service(named: $0.service.value) }) else { return [] }
        return schema.deployment.environments.map(\.name).filter { service.runs(in: $0) }
    }

    func render() -> [GeneratedFile] {
        outputs().map { DeploymentRenderer.hashFile($0.path, $0.contents) }
    }

    /// redis.conf per group of environments that run Redis alike.
    func outputs() -> [EnvironmentFiles.Output] {
        guard let settings = schema.deployment.redis, let service = schema.deployment.service(named: settings.service.value) else { return [] }
        return EnvironmentFiles.group(environments(), path: { $0.map { "redis/redis.\($0).conf" } ?? "redis/redis.conf" }) { environment, label in
            guard let maxmemory = settings.maxmemory.value(in: environment) else { return nil }
            return templates.render("redis.conf", View(
                environment: label, port: service.port(named: "redis") ?? 6379, maxmemory: maxmemory,
                eviction: settings.eviction.value.rawValue, appendfsync: settings.appendfsync.value.rawValue,
                save: settings.save.isEmpty ? "\"\"" : settings.save.joined(separator: " ")))
        }
    }

    func wire(into wiring: inout ComposeWiring) {
        guard let settings = schema.deployment.redis else { return }
        let service = settings.service.value
        for output in outputs() {
            for environment in output.environments {
                wiring.mount(output.path, at: Self.configPath, service: service, environment: environment)
            }
        }
        for environment in environments() {
            wiring.command(command(settings), service: service, environment: environment)
        }
    }

    /// Redis reads the password as configuration on standard input.
    func command(_ settings: RedisSettings) -> [String] {
        ["sh", "-c", "exec docker-entrypoint.sh redis-server \(Self.configPath) - <<EOF\nrequirepass \"$(cat /run/secrets/\(settings.password.value))\"\nEOF"]
    }
}

/// Kubernetes: one pod of a StatefulSet (its own claim for /data), redis.conf as a ConfigMap, the password as on
/// compose. The image's entrypoint stays (`args`, not `command`), as the compose command keeps it.
extension RedisRenderer: KubernetesComponent {
    func wire(into wiring: inout KubernetesWiring) {
        guard let settings = schema.deployment.redis, let service = schema.deployment.service(named: settings.service.value) else { return }
        let outputs = outputs()
        wiring.wire(service.name) { redis in
            redis.configDirectory = (Self.configPath as NSString).deletingLastPathComponent
            redis.configs = KubernetesWiring.configs(outputs.map { ($0.environments, [((Self.configPath as NSString).lastPathComponent, $0.contents)]) })
            redis.args = command(settings)
            redis.stateful = true
            // The process answering at all; readiness is the schema's PING with the password.
            redis.liveness = .tcp(port: service.port(named: "redis") ?? 6379)
        }
    }
}
