/// The deployment topology from `schema/deployment.yaml`.
public struct DeploymentDeclaration: Hashable, Sendable {
    public var environments: [NamedDeclaration] = []
    public var networks: [NetworkDeclaration] = []
    public var secrets: [NamedDeclaration] = []
    public var volumes: [NamedDeclaration] = []
    public var images: [ImageDeclaration] = []
    public var services: [ServiceDeclaration] = []

    public init() {}

    public func service(named name: String) -> ServiceDeclaration? { services.first { $0.name == name } }
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
    /// The host interface a macvlan network sits on, e.g. `eth1.100`.
    public var parent: String?

    public init(name: String, location: SourceLocation, driver: PerEnvironment<Driver>) {
        self.name = name
        self.location = location
        self.driver = driver
    }
}

public struct ImageDeclaration: Hashable, Sendable {
    public var name: String
    public var location: SourceLocation
    public var doc: String?
    /// Built by the project from this Dockerfile; nil for an external image pulled from a registry.
    public var dockerfile: String?

    public init(name: String, location: SourceLocation, doc: String? = nil, dockerfile: String?) {
        self.name = name
        self.location = location
        self.doc = doc
        self.dockerfile = dockerfile
    }
}
