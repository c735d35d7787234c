/// One service of the topology; with several instances it becomes `<name>-1`, `<name>-2`, ...
public struct ServiceDeclaration: Hashable, Sendable {
    public enum RestartPolicy: String, CaseIterable, Hashable, Sendable {
        case always, unlessStopped = "unless-stopped", onFailure = "on-failure", no
    }

    public struct HealthCheck: Hashable, Sendable {
        public enum Probe: Hashable, Sendable {
            case http(path: String, port: Int)
            case tcp(port: Int)
            /// A shell line (`CMD-SHELL`): needs /bin/sh in the image.
            case command(String)
            /// A program and its arguments (`CMD`), for images without a shell (distroless, scratch).
            case exec([String])
        }

        public var probe: Probe
        public var intervalSeconds: Int
        public var timeoutSeconds: Int
        public var retries: Int
        public var startPeriodSeconds: Int
        public var location: SourceLocation

        public init(probe: Probe, intervalSeconds: Int, timeoutSeconds: Int, retries: Int,
                    startPeriodSeconds: Int, location: SourceLocation) {
            self.probe = probe
            self.intervalSeconds = intervalSeconds
            self.timeoutSeconds = timeoutSeconds
            self.retries = retries
            self.startPeriodSeconds = startPeriodSeconds
            self.location = location
        }
    }

    public struct Port: Hashable, Sendable {
        public var name: Located<String>
        public var number: Int

        public init(name: Located<String>, number: Int) {
            self.name = name
            self.number = number
        }
    }

    public struct EnvironmentVariable: Hashable, Sendable {
        public var name: Located<String>
        public var value: PerEnvironment<String>

        public init(name: Located<String>, value: PerEnvironment<String>) {
            self.name = name
            self.value = value
        }
    }

    public struct Resources: Hashable, Sendable {
        /// CPUs as written (`0.5`, `2`), kept as text so output is exactly what the author wrote.
        public var cpus: String
        /// Memory in bytes; written as `512M`, `1G`.
        public var memoryBytes: Int
        public var memoryText: String

        public init(cpus: String, memoryBytes: Int, memoryText: String) {
            self.cpus = cpus
            self.memoryBytes = memoryBytes
            self.memoryText = memoryText
        }
    }

    public struct Metrics: Hashable, Sendable {
        public var port: Located<String>
        public var path: String

        public init(port: Located<String>, path: String = "/metrics") {
            self.port = port
            self.path = path
        }
    }

    public var name: String
    public var location: SourceLocation
    public var doc: String?
    public var image: Located<String>
    public var command: PerEnvironment<[String]>?
    public var instances: PerEnvironment<Int>
    public var dependsOn: PerEnvironment<[Located<String>]>?
    public var networks: [Located<String>] = []
    /// Named container ports in declaration order (`http: 8000`).
    public var ports: [Port] = []
    /// Ports published on the host, per environment (bound to the environment's publish address).
    public var publish: PerEnvironment<[PublishedPort]>?
    /// Where Prometheus scrapes this service (`metrics: { port: http }`, path /metrics unless written).
    public var metrics: Metrics?
    public var secrets: [Located<String>] = []
    public var volumes: [Located<String>] = []
    public var devices: PerEnvironment<[String]>?
    /// Plain configuration variables in declaration order; secrets never go here.
    public var environment: [EnvironmentVariable] = []
    public var health: HealthCheck?
    public var restart: RestartPolicy = .always
    /// How long `docker stop` waits after SIGTERM before it kills (compose default 10 s).
    public var stopGraceSeconds: Int?
    /// `uid:gid` the container runs as, when it must differ from its image's (to read secret files).
    public var user: String?
    public var resources: PerEnvironment<Resources>?

    public init(name: String, location: SourceLocation, image: Located<String>, instances: PerEnvironment<Int>) {
        self.name = name
        self.location = location
        self.image = image
        self.instances = instances
    }

    /// Whether the service runs in an environment.
    public func runs(in environment: String) -> Bool { (instances.value(in: environment) ?? 0) > 0 }

    public func port(named name: String) -> Int? { ports.first { $0.name.value == name }?.number }

    /// The names this service runs under in an environment: none, `name`, or `name-1` ... `name-N`.
    public func instanceNames(in environment: String) -> [String] {
        let count = instances.value(in: environment) ?? 0
        if count <= 0 { return [] }
        if count == 1 { return [name] }
        return (1...count).map { "\(name)-\($0)" }
    }
}
