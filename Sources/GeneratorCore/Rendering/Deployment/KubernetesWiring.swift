/// What the components (Patroni, PgBouncer, Redis, ...) add to their services' Kubernetes objects, as
/// `ComposeWiring` does for compose: their configuration files as a ConfigMap, the command that replaces an
/// entrypoint needing root, the directories a read-only root filesystem must leave writable, and the compose
/// parts that have no counterpart on Kubernetes. Keyed by the name of the service (or, for Patroni, the pods'
/// name); a service without an entry is rendered from the schema alone.
struct KubernetesWiring {
    struct Service {
        /// The ConfigMap `<service>-config`, mounted read-only at `configDirectory`: one set of files per group
        /// of environments whose files are the same (`EnvironmentFiles`).
        var configDirectory: String?
        var configs: [Config] = []
        /// `command` of the container (replaces the image's entrypoint) and its `args` in the base; an overlay's
        /// patch still sets the schema's command as `args` where the service has one.
        var command: [String]?
        var args: [String]?
        /// emptyDirs for what the process writes besides its volumes (`/tmp` always has one).
        var writableDirectories: [String] = []
        /// Compose volumes the Kubernetes variant does without (PgBouncer's target volume).
        var leftOutVolumes: Set<String> = []
        /// A StatefulSet whose volumes are per-pod claims (`volumeClaimTemplates`) instead of shared PVCs.
        var stateful = false
        /// The uid (and gid, fsGroup) the pod runs as, when not the stam user's; `userWaiver` says why, for checkov.
        var user: Int?
        var userWaiver: String?
        /// Liveness when the health check is not the answer to "is the process alive" (Patroni's `/liveness`).
        var liveness: ServiceDeclaration.HealthCheck.Probe?
        var environment: [YAMLTree] = []
        /// Extra pod labels (Patroni finds its pods by them) and a service account when the pod talks to the API.
        var podLabels: [(key: String, value: String)] = []
        var serviceAccount: String?
        /// Objects rendered next to the workload: Services, RBAC.
        var objects: [YAMLTree] = []
        /// The workload's Service is headless and lists pods before they are ready (peers find each other by name).
        var headlessService = false
        /// The headless Service that names a StatefulSet's pods, when it is not the service's own (RabbitMQ's nodes).
        var governingService: String?
        /// Run first, in a container of the same image with the same mounts (RabbitMQ's Erlang cookie).
        var initCommand: [String]?
        /// Mount each configuration file alone (`subPath`), keeping the image's other files in that directory.
        var configFilesAlone = false
        var waivers: [String] = []
    }

    /// The ConfigMap `<service>-config` of a group of environments, in `base/<service>/<directory>/`
    /// (`config`, or `config-<first environment>` when the groups differ), which those environments' overlays list.
    struct Config {
        var environments: [String]
        var directory: String
        var files: [(name: String, contents: String)]
    }

    private(set) var services: [String: Service] = [:]
    /// Schema services rendered under another name (the Patroni nodes, as the pods of one StatefulSet).
    private(set) var replacedServices: [String: String] = [:]
    /// Synthetic services (the Patroni StatefulSet) to render as if the schema declared them.
    private(set) var addedServices: [ServiceDeclaration] = []
    /// Schema services with no Kubernetes counterpart, and why (etcd: Patroni keeps its leader key in the API).
    private(set) var unneeded: [String: String] = [:]

    mutating func wire(_ service: String, _ change: (inout Service) -> Void) {
        change(&services[service, default: Service()])
    }

    mutating func add(_ service: ServiceDeclaration, replacing nodes: [String]) {
        addedServices.append(service)
        for node in nodes { replacedServices[node] = service.name }
    }

    mutating func leaveOut(_ service: String, because reason: String) { unneeded[service] = reason }

    func service(_ name: String) -> Service { services[name] ?? Service() }

    /// ConfigMaps per group of environments, from the files `EnvironmentFiles` grouped.
    static func configs(_ groups: [(environments: [String], files: [(name: String, contents: String)])]) -> [Config] {
        groups.map { group in
            Config(environments: group.environments, directory: groups.count == 1 ? "config" : "config-\(group.environments[0])", files: group.files)
        }
    }
}
