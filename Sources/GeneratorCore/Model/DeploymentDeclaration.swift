/// The deployment topology from `schema/deployment.yaml`.
public struct DeploymentDeclaration: Hashable, Sendable {
    public var environments: [EnvironmentDeclaration] = []
    public var networks: [NetworkDeclaration] = []
    public var secrets: [SecretDeclaration] = []
    public var volumes: [NamedDeclaration] = []
    public var images: [ImageDeclaration] = []
    public var services: [ServiceDeclaration] = []
    public var proxy: ProxySettings?
    public var postgres: PostgresSettings?
    public var redis: RedisSettings?
    public var rabbitmq: RabbitMQSettings?
    public var backups: BackupSettings?
    public var monitoring: MonitoringSettings?

    public init() {}

    public func service(named name: String) -> ServiceDeclaration? { services.first { $0.name == name } }
    public func secret(named name: String) -> SecretDeclaration? { secrets.first { $0.name == name } }
    public func image(named name: String) -> ImageDeclaration? { images.first { $0.name == name } }

    public func environment(named name: String) -> EnvironmentDeclaration? { environments.first { $0.name == name } }

    /// The environment whose topology `name` runs: itself, or the one it is `like` (stage -> prod).
    public func baseEnvironment(of name: String) -> String {
        environment(named: name)?.like.map(\.value) ?? name
    }

    /// The number of a service's named port (`backend`, `http` -> 8000).
    public func port(_ reference: ServicePort) -> Int? {
        service(named: reference.service.value)?.ports.first { $0.name.value == reference.port.value }?.number
    }
}

/// An environment the topology is rendered for (`prod`, `dev`).
public struct EnvironmentDeclaration: Hashable, Sendable {
    public var name: String
    public var location: SourceLocation
    public var doc: String?
    /// The host address published ports bind to (compose reads STAM_PUBLISH_ADDRESS).
    public var publishAddress: String
    /// `like: prod`: the environment runs another's topology. Every per-environment value it does not name
    /// itself is the other's, so a STAGE is production's services, replicas and settings with its own host
    /// names, secrets and data.
    public var like: Located<String>?
    /// `snapshot_key:` the secret that keys `stam snapshot`'s replacements of personal data when production's data is
    /// copied to this environment (STAGE).
    public var snapshotKey: Located<String>?
    /// `local_override:`: what a machine that is not a production host (no VLAN, no registry) changes, as
    /// the generated `docker-compose.<environment>.local.yml` next to the environment's own file.
    public var localOverride: LocalOverride?

    /// The override file's contents: macvlan networks become bridges with the same addresses (always), and
    /// the services in `leaveOut` do not start (an image this machine cannot build or pull).
    public struct LocalOverride: Hashable, Sendable {
        public var doc: String?
        public var leaveOut: [Located<String>]

        public init(doc: String? = nil, leaveOut: [Located<String>] = []) {
            self.doc = doc
            self.leaveOut = leaveOut
        }
    }

    public init(name: String, location: SourceLocation, doc: String? = nil, publishAddress: String = "127.0.0.1",
                localOverride: LocalOverride? = nil) {
        self.name = name
        self.location = location
        self.doc = doc
        self.publishAddress = publishAddress
        self.localOverride = localOverride
    }
}

/// A secret: a file (Docker secret, `/run/secrets/<name>`), never an environment value.
public struct SecretDeclaration: Hashable, Sendable {
    /// What `stam secrets init` writes.
    public enum Generator: Hashable, Sendable {
        case password
        /// A JSON object mapping each of `names` to the password in secret `of` (redis_exporter's password file).
        case passwordMap(of: Located<String>, names: [String])
        case randomKey
        case rsaPrivateKey
        case rsaPublicKey(of: Located<String>)
        case tlsCA
        case tlsCertificate(key: Located<String>, ca: Located<String>?, names: [String])
        case tlsPrivateKey
        case provided

        public static let keywords = ["password", "password_map", "random_key", "rsa_private_key", "rsa_public_key",
                                      "tls_ca", "tls_certificate", "tls_private_key", "provided"]

        public var keyword: String {
            switch self {
            case .password: "password"
            case .passwordMap: "password_map"
            case .randomKey: "random_key"
            case .rsaPrivateKey: "rsa_private_key"
            case .rsaPublicKey: "rsa_public_key"
            case .tlsCA: "tls_ca"
            case .tlsCertificate: "tls_certificate"
            case .tlsPrivateKey: "tls_private_key"
            case .provided: "provided"
            }
        }
    }

    public var name: String
    public var location: SourceLocation
    public var doc: String?
    public var generator: Generator
    /// Relative to the project root; `secrets/<name>` unless written.
    public var file: String

    public init(name: String, location: SourceLocation, doc: String? = nil, generator: Generator, file: String? = nil) {
        self.name = name
        self.location = location
        self.doc = doc
        self.generator = generator
        self.file = file ?? "secrets/\(name)"
    }

    /// Where the file lives relative to the secrets directory, when it is under `secrets/`.
    public var isInSecretsDirectory: Bool { file.hasPrefix("secrets/") }
}

/// A declaration that is only a name and a description (an environment, a secret, a volume).
public struct NamedDeclaration: Hashable, Sendable {
    public var name: String
    public var location: SourceLocation
    public var doc: String?

    public init(name: String, location: SourceLocation, doc: String? = nil) {
        self.name = name
        self.location = location
        self.doc = doc
    }
}

public struct NetworkDeclaration: Hashable, Sendable {
    public enum Driver: String, CaseIterable, Hashable, Sendable { case bridge, macvlan }

    public var name: String
    public var location: SourceLocation
    public var doc: String?
    public var driver: PerEnvironment<Driver>
    /// The host interface a macvlan network sits on, e.g. `eth1.100` (compose reads <NAME>_PARENT).
    public var parent: String?
    /// The network's subnet and gateway (compose reads <NAME>_SUBNET and <NAME>_GATEWAY).
    public var subnet: String?
    public var gateway: String?
    /// `internal:` no route out of the network: its containers reach each other and nothing else, not even another
    /// network's containers through the host. A wall between roles; a container that must be reached from outside
    /// (a published port) or reach out needs one network that is not internal.
    public var isInternal: PerEnvironment<Bool>?

    /// The prefix of the compose variables that override this network's site-specific values.
    public var variablePrefix: String { name.uppercased().replacingOccurrences(of: "-", with: "_") }

    public init(name: String, location: SourceLocation, driver: PerEnvironment<Driver>) {
        self.name = name
        self.location = location
        self.driver = driver
    }
}

public struct ImageDeclaration: Hashable, Sendable {
    /// The shape of a Dockerfile the generator writes (`deploy/templates/Dockerfile.<kind>.mustache`).
    public enum Template: String, CaseIterable, Hashable, Sendable {
        /// The stam binary: a multi-stage Swift build, a slim Debian runtime, a non-root user.
        case stam, patroni, pgbouncer, backup
    }

    public var name: String
    public var location: SourceLocation
    public var doc: String?
    /// Built by the project from this Dockerfile; nil for an external image pulled from a registry.
    public var dockerfile: String?
    /// How the generator writes that Dockerfile (images built here only).
    public var template: Template = .stam

    public init(name: String, location: SourceLocation, doc: String? = nil, dockerfile: String?) {
        self.name = name
        self.location = location
        self.doc = doc
        self.dockerfile = dockerfile
    }
}
