/// The sections of `schema/deployment.yaml` after `services:`: what the generated configuration files need
/// beyond the service list. Every reference (service, named port, secret) keeps its location so the
/// validator can point at it.

/// A service's named port (`{ service: backend, port: http }`).
public struct ServicePort: Hashable, Sendable {
    public var service: Located<String>
    public var port: Located<String>

    public init(service: Located<String>, port: Located<String>) {
        self.service = service
        self.port = port
    }
}

/// `proxy:`: nginx in front of the backends.
public struct ProxySettings: Hashable, Sendable {
    public struct LoginLimit: Hashable, Sendable {
        public var paths: [String]
        /// nginx rate syntax: `5r/m`, `10r/s`.
        public var rate: Located<String>
        public var burst: Int

        public init(paths: [String], rate: Located<String>, burst: Int) {
            self.paths = paths
            self.rate = rate
            self.burst = burst
        }
    }

    public struct Route: Hashable, Sendable {
        public var path: String
        public var target: ServicePort

        public init(path: String, target: ServicePort) {
            self.path = path
            self.target = target
        }
    }

    public var location: SourceLocation
    public var service: Located<String>
    public var upstream: ServicePort
    /// The host name operators use (nginx's server_name, the Ingress host), per environment if it differs.
    public var serverName: PerEnvironment<String>
    public var certificate: Located<String>
    public var key: Located<String>
    /// The plain-HTTP listener on loopback and the internal network for /healthz and stub_status.
    public var statusPort: Located<String>
    public var readinessPath: String
    public var maxFails: Int
    public var failTimeoutSeconds: Int
    public var websocketPath: String
    public var websocketTimeoutSeconds: Int
    public var loginLimit: LoginLimit?
    public var routes: [Route]

    public init(location: SourceLocation, service: Located<String>, upstream: ServicePort, serverName: PerEnvironment<String>,
                certificate: Located<String>, key: Located<String>, statusPort: Located<String>, readinessPath: String,
                maxFails: Int, failTimeoutSeconds: Int, websocketPath: String, websocketTimeoutSeconds: Int,
                loginLimit: LoginLimit?, routes: [Route]) {
        self.location = location
        self.service = service
        self.upstream = upstream
        self.serverName = serverName
        self.certificate = certificate
        self.key = key
        self.statusPort = statusPort
        self.readinessPath = readinessPath
        self.maxFails = maxFails
        self.failTimeoutSeconds = failTimeoutSeconds
        self.websocketPath = websocketPath
        self.websocketTimeoutSeconds = websocketTimeoutSeconds
        self.loginLimit = loginLimit
        self.routes = routes
    }
}

/// `postgres:`: the database, Patroni and PgBouncer.
public struct PostgresSettings: Hashable, Sendable {
    public struct Patroni: Hashable, Sendable {
        public struct TLS: Hashable, Sendable {
            public var ca: Located<String>
            public var certificate: Located<String>
            public var key: Located<String>

            public init(ca: Located<String>, certificate: Located<String>, key: Located<String>) {
                self.ca = ca
                self.certificate = certificate
                self.key = key
            }
        }

        /// A PostgreSQL parameter as written (`wal_keep_size: 256MB`), in declaration order.
        public struct Parameter: Hashable, Sendable {
            public var name: Located<String>
            public var value: String

            public init(name: Located<String>, value: String) {
                self.name = name
                self.value = value
            }
        }

        public var scope: String
        /// Patroni services; the first bootstraps the cluster.
        public var nodes: [Located<String>]
        public var dcs: ServicePort
        public var superuserPassword: Located<String>
        public var replicationPassword: Located<String>
        public var apiPassword: Located<String>
        public var tls: TLS
        /// `dcs_tls:` how the nodes reach the DCS (etcd) over TLS with a client certificate: the CA that signs
        /// etcd's certificate and the nodes' client certificate and key. nil: plain HTTP.
        public var dcsTLS: TLS?
        public var ttl: Int
        public var loopWait: Int
        public var retryTimeout: Int
        public var maximumLagOnFailover: Int
        public var synchronousMode: Bool
        public var failsafeMode: Bool
        public var parameters: [Parameter]

        public init(scope: String, nodes: [Located<String>], dcs: ServicePort, superuserPassword: Located<String>,
                    replicationPassword: Located<String>, apiPassword: Located<String>, tls: TLS, dcsTLS: TLS? = nil, ttl: Int,
                    loopWait: Int, retryTimeout: Int, maximumLagOnFailover: Int, synchronousMode: Bool,
                    failsafeMode: Bool, parameters: [Parameter]) {
            self.scope = scope
            self.nodes = nodes
            self.dcs = dcs
            self.superuserPassword = superuserPassword
            self.replicationPassword = replicationPassword
            self.apiPassword = apiPassword
            self.tls = tls
            self.dcsTLS = dcsTLS
            self.ttl = ttl
            self.loopWait = loopWait
            self.retryTimeout = retryTimeout
            self.maximumLagOnFailover = maximumLagOnFailover
            self.synchronousMode = synchronousMode
            self.failsafeMode = failsafeMode
            self.parameters = parameters
        }
    }

    public struct PgBouncer: Hashable, Sendable {
        public enum PoolMode: String, CaseIterable, Hashable, Sendable { case transaction, session, statement }

        public var service: Located<String>
        public var adminPassword: Located<String>
        public var poolMode: PoolMode
        public var defaultPoolSize: Int
        public var maxClientConnections: Int
        /// `client_tls: { certificate, key }`: PgBouncer accepts clients over TLS only, with this certificate
        /// (signed by the PostgreSQL CA, naming the service) that they verify (sslmode=verify-full). nil: plain.
        public var clientTLS: ClientTLS?

        public struct ClientTLS: Hashable, Sendable {
            public var certificate: Located<String>
            public var key: Located<String>

            public init(certificate: Located<String>, key: Located<String>) {
                self.certificate = certificate
                self.key = key
            }
        }

        public init(service: Located<String>, adminPassword: Located<String>, poolMode: PoolMode,
                    defaultPoolSize: Int, maxClientConnections: Int, clientTLS: ClientTLS? = nil) {
            self.clientTLS = clientTLS
            self.service = service
            self.adminPassword = adminPassword
            self.poolMode = poolMode
            self.defaultPoolSize = defaultPoolSize
            self.maxClientConnections = maxClientConnections
        }
    }

    public var location: SourceLocation
    public var database: String
    public var user: String
    public var password: Located<String>
    public var patroni: Patroni?
    public var pgbouncer: PgBouncer?

    public init(location: SourceLocation, database: String, user: String, password: Located<String>,
                patroni: Patroni?, pgbouncer: PgBouncer?) {
        self.location = location
        self.database = database
        self.user = user
        self.password = password
        self.patroni = patroni
        self.pgbouncer = pgbouncer
    }
}

/// `redis:`.
public struct RedisSettings: Hashable, Sendable {
    public enum Eviction: String, CaseIterable, Hashable, Sendable {
        case allkeysLRU = "allkeys-lru", allkeysLFU = "allkeys-lfu", volatileLRU = "volatile-lru", noeviction
    }

    public enum AppendFsync: String, CaseIterable, Hashable, Sendable { case always, everysec, no }

    public var location: SourceLocation
    public var service: Located<String>
    public var password: Located<String>
    /// Redis size syntax as written (`1536mb`).
    public var maxmemory: PerEnvironment<String>
    /// Must be `noeviction` and `always` (the validator says why): Redis holds the panel leases and fencing counters.
    public var eviction: Located<Eviction>
    public var appendfsync: Located<AppendFsync>
    /// RDB snapshot rules (`"3600 1"`: after 3600 s if at least 1 key changed).
    public var save: [String]

    public init(location: SourceLocation, service: Located<String>, password: Located<String>,
                maxmemory: PerEnvironment<String>, eviction: Located<Eviction>, appendfsync: Located<AppendFsync>, save: [String]) {
        self.location = location
        self.service = service
        self.password = password
        self.maxmemory = maxmemory
        self.eviction = eviction
        self.appendfsync = appendfsync
        self.save = save
    }
}

/// `rabbitmq:`.
public struct RabbitMQSettings: Hashable, Sendable {
    public var location: SourceLocation
    public var service: Located<String>
    public var vhost: String
    /// One per kind of client, each with only the rights its part of schema/queues.yaml needs.
    public var users: [RabbitMQUser]
    /// The Erlang cookie the nodes of a cluster share (Kubernetes: the StatefulSet's brokers); compose's single
    /// broker makes its own.
    public var erlangCookie: Located<String>?

    public init(location: SourceLocation, service: Located<String>, vhost: String, users: [RabbitMQUser], erlangCookie: Located<String>? = nil) {
        self.location = location
        self.service = service
        self.vhost = vhost
        self.users = users
        self.erlangCookie = erlangCookie
    }

    public func user(named name: String) -> RabbitMQUser? { users.first { $0.name == name } }
}

/// `users: { relay: { password: rabbitmq_relay_password, publishes: [events, commands] } }` under `rabbitmq:`.
/// The broker's permissions follow from the two lists (see `RabbitMQPermissions`): nobody may configure the
/// shared topology, which the broker loads at boot.
public struct RabbitMQUser: Hashable, Sendable {
    public var name: String
    public var location: SourceLocation
    /// The secret holding the user's password; the broker's service and the user's services mount it.
    public var password: Located<String>
    /// Queues of schema/queues.yaml it consumes from (a per-instance queue: every instance's).
    public var consumes: [Located<String>]
    /// Exchanges of schema/queues.yaml it publishes to.
    public var publishes: [Located<String>]

    public init(name: String, location: SourceLocation, password: Located<String>, consumes: [Located<String>], publishes: [Located<String>]) {
        self.name = name
        self.location = location
        self.password = password
        self.consumes = consumes
        self.publishes = publishes
    }
}

/// `backups:`.
public struct BackupSettings: Hashable, Sendable {
    public var location: SourceLocation
    public var service: Located<String>
    /// Host directory where the NAS share is mounted (compose reads STAM_NAS_DIR).
    public var nas: String
    public var databaseEverySeconds: Int
    /// How many database dumps stay in the local backups volume (the NAS keeps every one).
    public var databaseKeep: Int
    public var mediaEverySeconds: Int
    public var mediaVolume: Located<String>

    public init(location: SourceLocation, service: Located<String>, nas: String, databaseEverySeconds: Int,
                databaseKeep: Int, mediaEverySeconds: Int, mediaVolume: Located<String>) {
        self.location = location
        self.service = service
        self.nas = nas
        self.databaseEverySeconds = databaseEverySeconds
        self.databaseKeep = databaseKeep
        self.mediaEverySeconds = mediaEverySeconds
        self.mediaVolume = mediaVolume
    }
}

/// `monitoring:`: Prometheus, Grafana and the alert thresholds of the seed.
public struct MonitoringSettings: Hashable, Sendable {
    public var location: SourceLocation
    public var prometheus: Located<String>
    public var grafana: Located<String>?
    public var scrapeIntervalSeconds: Int
    public var relayMinimumActive: Int
    public var relayForSeconds: Int
    public var replicationLagWarningSeconds: Int
    public var replicationLagCriticalSeconds: Int
    public var replicationLagForSeconds: Int
    public var smsSilenceSeconds: Int
    public var panelDisconnectedSeconds: Int
    public var backendNotReadySeconds: Int
    /// Refused or throttled logins per minute, summed over the backends, that raise `LoginStorm`.
    public var loginRefusalsPerMinute: Int
    public var loginRefusalsForSeconds: Int
    /// No DC-09 frame acknowledged for this long while the receivers have accounts raises `NoDC09Frame`; nil: no
    /// such rule (a station without DC-09 receivers).
    public var dc09SilenceSeconds: Int?

    public init(location: SourceLocation, prometheus: Located<String>, grafana: Located<String>?,
                scrapeIntervalSeconds: Int, relayMinimumActive: Int, relayForSeconds: Int,
                replicationLagWarningSeconds: Int, replicationLagCriticalSeconds: Int, replicationLagForSeconds: Int,
                smsSilenceSeconds: Int, panelDisconnectedSeconds: Int, backendNotReadySeconds: Int,
                loginRefusalsPerMinute: Int, loginRefusalsForSeconds: Int, dc09SilenceSeconds: Int? = nil) {
        self.location = location
        self.prometheus = prometheus
        self.grafana = grafana
        self.scrapeIntervalSeconds = scrapeIntervalSeconds
        self.relayMinimumActive = relayMinimumActive
        self.relayForSeconds = relayForSeconds
        self.replicationLagWarningSeconds = replicationLagWarningSeconds
        self.replicationLagCriticalSeconds = replicationLagCriticalSeconds
        self.replicationLagForSeconds = replicationLagForSeconds
        self.smsSilenceSeconds = smsSilenceSeconds
        self.panelDisconnectedSeconds = panelDisconnectedSeconds
        self.backendNotReadySeconds = backendNotReadySeconds
        self.loginRefusalsPerMinute = loginRefusalsPerMinute
        self.loginRefusalsForSeconds = loginRefusalsForSeconds
        self.dc09SilenceSeconds = dc09SilenceSeconds
    }
}
