import Testing
@testable import GeneratorCore

/// One test per class of deployment error (secrets, the configuration sections): the exact
/// `file:line:col: error: message` a developer sees.
@Suite struct DeploymentValidationTests {
    static let base = """
        environments:
          prod: {}
        networks:
          internal: {}
        secrets:
          db_password: {}
          cache_password: {}
        images:
          app: { dockerfile: deploy/generated/docker/app.Dockerfile }
          redis:7: { external: true }
        services:
          app:
            image: app
            networks: [internal]
            ports: { http: 8000 }
            secrets: [db_password]
          cache:
            image: redis:7
            networks: [internal]
            ports: { redis: 6379 }
            secrets: [cache_password]
        """ + "\n"

    static let patroni = """
        environments:
          prod: {}
        networks:
          internal: {}
        secrets:
          app_password: {}
          su_password: {}
          repl_password: {}
          api_password: {}
          ca: { generate: tls_ca }
          cert: { generate: tls_certificate, key: key, ca: ca, names: [db-1] }
          key: { generate: tls_private_key }
        images:
          db: { dockerfile: deploy/generated/docker/db.Dockerfile, template: patroni }
          etcd:3: { external: true }
        services:
          etcd:
            image: etcd:3
            networks: [internal]
            ports: { client: 2379 }
          db-1:
            image: db
            depends_on: [etcd]
            networks: [internal]
            ports: { postgres: 5432, patroni: 8008 }
            secrets: [app_password, su_password, repl_password, api_password, ca, cert, key]
          db-2:
            image: db
            depends_on: [etcd]
            networks: [internal]
            ports: { postgres: 5433, patroni: 8009 }
            secrets: [app_password, su_password, repl_password, api_password, ca, cert, key]
        postgres:
          database: stam
          user: app
          password: app_password
          patroni:
            scope: stam
            nodes: [db-1, db-2]
            dcs: { service: etcd, port: client }
            superuser_password: su_password
            replication_password: repl_password
            api_password: api_password
            tls: { ca: ca, certificate: cert, key: key }
            ttl: 20
            loop_wait: 10
            retry_timeout: 10
        """

    func errors(_ deployment: String) -> [String] { SchemaSnippet.errors(deployment: deployment) }

    @Test func unknownSecretKindSuggestsTheNearestWithoutCascading() {
        #expect(errors(Self.base.replacingOccurrences(of: "  cache_password: {}", with: "  cache_password: { generate: passwrd }")) == [
            "schema/deployment.yaml:7:31: error: unknown secret kind 'passwrd'; did you mean 'password'? (expected one of: password, password_map, random_key, rsa_private_key, rsa_public_key, tls_ca, tls_certificate, tls_private_key, provided)",
        ])
    }

    @Test func publicKeyMustBeOfAnRSAPrivateKey() {
        #expect(errors(Self.base.replacingOccurrences(of: "  cache_password: {}", with: "  cache_password: { generate: rsa_public_key, of: db_password }")) == [
            "schema/deployment.yaml:7:51: error: the private key of secret 'cache_password' is 'db_password', which is generated as password, not rsa_private_key",
        ])
    }

    @Test func passwordMapMustBeOfADeclaredPasswordAndHaveNames() {
        func map(_ body: String) -> String {
            Self.base.replacingOccurrences(of: "  cache_password: {}", with: "  cache_password: { generate: password_map\(body) }")
        }
        #expect(errors(map(", of: db_pasword, names: [\"redis://cache:6379\"]")) == [
            "schema/deployment.yaml:7:49: error: the password of secret 'cache_password' is 'db_pasword', which is not declared under 'secrets:'; did you mean 'db_password'?",
        ])
        #expect(errors(map(", of: jwt, names: [\"redis://cache:6379\"]")
            .replacingOccurrences(of: "  db_password: {}", with: "  db_password: {}\n  jwt: { generate: rsa_private_key }")
            .replacingOccurrences(of: "    secrets: [db_password]", with: "    secrets: [db_password, jwt]")) == [
            "schema/deployment.yaml:8:49: error: the password of secret 'cache_password' is 'jwt', which is generated as rsa_private_key, not password",
        ])
        #expect(errors(map(", of: db_password")) == [
            "schema/deployment.yaml:7:31: error: secret 'cache_password' is a password_map and needs 'of: <the password secret>' and 'names: [the keys of the map]'",
        ])
        #expect(errors(map(", of: db_password, names: []")) == [
            "schema/deployment.yaml:7:31: error: secret 'cache_password' is a password_map and needs 'of: <the password secret>' and 'names: [the keys of the map]'",
        ])
    }

    static let broker = """
        environments:
          prod: {}
        networks:
          internal: {}
        secrets:
          relay_password: {}
        images:
          app: { dockerfile: deploy/generated/docker/app.Dockerfile }
          rabbitmq:3: { external: true }
        services:
          relay:
            image: app
            networks: [internal]
            secrets: [relay_password]
            env:
              RABBITMQ_URL: "amqp://relay@broker:5672/stam"
              RABBITMQ_PASSWORD_FILE: /run/secrets/relay_password
              RABBITMQ_TOPOLOGY: verify
          broker:
            image: rabbitmq:3
            networks: [internal]
            ports: { amqp: 5672 }
            secrets: [relay_password]
        rabbitmq:
          service: broker
          vhost: stam
          users:
            relay: { password: relay_password, publishes: [events] }
        """ + "\n"
    static let brokerQueues = "exchanges:\n  events: { type: topic }\nqueues:\n  inbox: { type: quorum, bind: [\"events:#\"] }\n"

    /// Every client of the broker logs in as a declared user with that user's password file and only checks the
    /// topology; a user consumes and publishes only what schema/queues.yaml declares.
    @Test func brokerClientsLogInAsDeclaredUsersWithTheirOwnPasswords() {
        func errors(_ deployment: String) -> [String] { SchemaSnippet.errors(queues: Self.brokerQueues, deployment: deployment) }
        #expect(errors(Self.broker) == [])
        #expect(errors(Self.broker.replacingOccurrences(of: "publishes: [events]", with: "publishes: [event], consumes: [inbx]")) == [
            "schema/deployment.yaml:28:52: error: RabbitMQ user 'relay' publishes to exchange 'event', which schema/queues.yaml does not declare; did you mean 'events'?",
            "schema/deployment.yaml:28:71: error: RabbitMQ user 'relay' consumes queue 'inbx', which schema/queues.yaml does not declare; did you mean 'inbox'?",
        ])
        #expect(errors(Self.broker.replacingOccurrences(of: "amqp://relay@", with: "amqp://relya@")) == [
            "schema/deployment.yaml:16:7: error: RABBITMQ_URL 'amqp://relya@broker:5672/stam' of service 'relay' names no user of the rabbitmq settings; did you mean 'relay'?",
        ])
        #expect(errors(Self.broker.replacingOccurrences(of: "      RABBITMQ_TOPOLOGY: verify\n", with: "")) == [
            "schema/deployment.yaml:16:7: error: service 'relay' needs RABBITMQ_TOPOLOGY: verify: the broker loads the topology at boot and user 'relay' may not declare it",
        ])
        #expect(errors(Self.broker.replacingOccurrences(of: "    secrets: [relay_password]\n    env:", with: "    env:")
            .replacingOccurrences(of: "/run/secrets/relay_password", with: "/run/secrets/other")) == [
            "schema/deployment.yaml:15:7: error: service 'relay' logs in to RabbitMQ as 'relay': give it RABBITMQ_PASSWORD_FILE: /run/secrets/relay_password and the secret 'relay_password'",
            "schema/deployment.yaml:16:7: error: environment variable 'RABBITMQ_PASSWORD_FILE' of service 'relay' points at secret 'other', which the service does not list in its 'secrets'",
        ])
    }

    @Test func secretFileVariableMustNameAMountedSecret() {
        #expect(errors(Self.base.replacingOccurrences(
            of: "    secrets: [db_password]", with: "    secrets: [db_password]\n    env: { CACHE_PASSWORD_FILE: /run/secrets/cache_password }")) == [
            "schema/deployment.yaml:17:12: error: environment variable 'CACHE_PASSWORD_FILE' of service 'app' points at secret 'cache_password', which the service does not list in its 'secrets'",
        ])
    }

    @Test func localOverrideLeavesOutRunningServicesNoOneNeeds() {
        #expect(errors(Self.base.replacingOccurrences(of: "  prod: {}", with: "  prod: { local_override: { leave_out: [cahce] } }")) == [
            "schema/deployment.yaml:2:41: error: 'leave_out' of environment 'prod' names 'cahce', which does not run there; did you mean 'cache'?",
        ])
        #expect(errors(Self.base.replacingOccurrences(of: "  prod: {}", with: "  prod: { local_override: { leave_out: [cache] } }")
            .replacingOccurrences(of: "    secrets: [db_password]", with: "    secrets: [db_password]\n    depends_on: [cache]")) == [
            "schema/deployment.yaml:17:18: error: 'leave_out' of environment 'prod' leaves out 'cache', which service 'app' depends on; leave out 'app' too",
        ])
    }

    @Test func anEnvironmentIsLikeOneOtherThatIsNotLikeAThird() {
        #expect(errors(Self.base.replacingOccurrences(of: "  prod: {}", with: "  prod: {}\n  stage: { like: prdo }")) == [
            "schema/deployment.yaml:3:18: error: 'like' of environment 'stage' names an unknown environment 'prdo'; did you mean 'prod'?",
        ])
        #expect(errors(Self.base.replacingOccurrences(of: "  prod: {}", with: "  prod: {}\n  stage: { like: stage }")) == [
            "schema/deployment.yaml:3:18: error: 'like' of environment 'stage' names the environment itself",
        ])
        #expect(errors(Self.base.replacingOccurrences(of: "  prod: {}", with: "  prod: {}\n  stage: { like: prod }\n  demo: { like: stage }")) == [
            "schema/deployment.yaml:4:17: error: 'like' of environment 'demo' names 'stage', which is itself like 'prod'; name 'prod' directly",
        ])
    }

    /// An environment `like` another takes every per-environment value it does not write, and its publish address.
    @Test func anEnvironmentLikeAnotherTakesWhatItDoesNotWrite() throws {
        let schema = try SchemaSnippet.load(deployment: Self.base
            .replacingOccurrences(of: "  prod: {}", with: "  prod: { publish_address: 0.0.0.0 }\n  stage: { like: prod }\n  dev: {}")
            .replacingOccurrences(of: "    image: app\n", with: "    image: app\n    instances: { prod: 3, dev: 1 }\n    command: { prod: [serve], stage: [serve, --stage] }\n")).schema
        let app = try #require(schema.deployment.service(named: "app"))
        #expect(app.instances.value(in: "stage") == 3 && app.instances.value(in: "dev") == 1)
        #expect(app.command?.value(in: "stage") == ["serve", "--stage"] && app.command?.value(in: "prod") == ["serve"])
        #expect(app.command?.value(in: "dev") == nil)
        #expect(schema.deployment.environment(named: "stage")?.publishAddress == "0.0.0.0")
        #expect(schema.deployment.environment(named: "dev")?.publishAddress == "127.0.0.1")
        #expect(schema.deployment.baseEnvironment(of: "stage") == "prod" && schema.deployment.baseEnvironment(of: "dev") == "dev")
    }

    /// The secrets a setting names (RabbitMQ's Erlang cookie, an environment's snapshot key) are declared, of the right
    /// kind, and mounted by the service that reads them.
    @Test func theErlangCookieAndTheSnapshotKeyAreDeclaredSecretsOfTheirKind() {
        func errors(_ deployment: String) -> [String] { SchemaSnippet.errors(queues: Self.brokerQueues, deployment: deployment) }
        let cookie = Self.broker.replacingOccurrences(of: "  vhost: stam\n", with: "  vhost: stam\n  erlang_cookie: cookie\n")
        #expect(errors(cookie) == [
            "schema/deployment.yaml:27:18: error: secret 'cookie' of the erlang_cookie of the rabbitmq settings is not declared under 'secrets:'",
        ])
        #expect(errors(cookie.replacingOccurrences(of: "  relay_password: {}\n", with: "  relay_password: {}\n  cookie: {}\n")) == [
            "schema/deployment.yaml:28:18: error: service 'broker' needs secret 'cookie' (the erlang_cookie of the rabbitmq settings) but does not list it in its 'secrets'",
        ])
        let key = Self.broker.replacingOccurrences(of: "  prod: {}\n", with: "  prod: {}\n  stage: { like: prod, snapshot_key: anonymisation_kye }\n")
            .replacingOccurrences(of: "  relay_password: {}\n", with: "  relay_password: {}\n  anonymisation_key: {}\n")
        #expect(errors(key) == [
            "schema/deployment.yaml:3:38: error: 'snapshot_key' of environment 'stage' is 'anonymisation_kye', which is not declared under 'secrets:'; did you mean 'anonymisation_key'?",
        ])
        #expect(errors(key.replacingOccurrences(of: "anonymisation_kye", with: "anonymisation_key")) == [
            "schema/deployment.yaml:3:38: error: 'snapshot_key' of environment 'stage' is 'anonymisation_key', which is generated as password, not random_key",
        ])
        #expect(errors(key.replacingOccurrences(of: "anonymisation_kye", with: "anonymisation_key")
            .replacingOccurrences(of: "  anonymisation_key: {}", with: "  anonymisation_key: { generate: random_key }")) == [])
    }

    @Test func metricsMustBeOnANamedPort() {
        #expect(errors(Self.base.replacingOccurrences(of: "    ports: { http: 8000 }", with: "    ports: { http: 8000 }\n    metrics: { port: htp }")) == [
            "schema/deployment.yaml:16:22: error: the metrics of service 'app' are on port 'htp', which is not one of its named ports; did you mean 'http'?",
        ])
    }

    @Test func sectionsNameDeclaredServicesAndValidValues() {
        #expect(errors(Self.base + """
            redis:
              service: cahce
              password: db_password
              maxmemory: 1.5gb
            """) == [
            "schema/deployment.yaml:23:12: error: the redis settings name service 'cahce', which is not declared under 'services:'; did you mean 'cache'?",
            "schema/deployment.yaml:25:14: error: maxmemory '1.5gb' of the redis settings is not a Redis size such as 1536mb or 2gb",
        ])
    }

    /// Issue 18 point 9: the lease store must neither evict nor delay its fsync.
    @Test func aRedisThatEvictsOrDelaysItsFsyncIsRefused() {
        #expect(errors(Self.base + """
            redis:
              service: cache
              password: cache_password
              maxmemory: 64mb
              eviction: allkeys-lru
              appendfsync: everysec
            """) == [
            "schema/deployment.yaml:26:13: error: eviction 'allkeys-lru' of the redis settings may evict panel leases and fencing counters; use noeviction (the RedisMemoryHigh alert watches memory instead)",
            "schema/deployment.yaml:27:16: error: appendfsync 'everysec' of the redis settings loses the newest lease grants on a crash; use always",
        ])
    }

    @Test func aSectionReportsAMissingKey() {
        #expect(errors(Self.base + """
            redis:
              service: cache
              maxmemory: 64mb
            """) == ["schema/deployment.yaml:22:1: error: the redis settings need 'password'"])
    }

    @Test func theServiceThatUsesASecretMustMountIt() {
        #expect(errors(Self.base + """
            proxy:
              service: app
              upstream: { service: app, port: http }
              server_name: stam.local
              certificate: cache_password
              key: db_password
              status_port: http
              login_limit: { paths: [/login], rate: 5/m, burst: 5 }
            """) == [
            "schema/deployment.yaml:26:16: error: service 'app' needs secret 'cache_password' (the proxy settings) but does not list it in its 'secrets'",
            "schema/deployment.yaml:29:41: error: the login rate limit '5/m' is not an nginx rate such as 5r/m or 10r/s",
        ])
    }

    @Test func alertThresholdsMustBeOrdered() {
        #expect(errors(Self.base + """
            monitoring:
              prometheus: app
              alerts:
                relay_active_instances: { below: 1, for: 30s }
                replication_lag: { warning: 60s, critical: 10s }
                sms_silence: 1h
                panel_disconnected: 2m
                backend_not_ready: 1m
                login_refusals: { per_minute: 30, for: 2m }
            """) == ["schema/deployment.yaml:22:1: error: the replication lag warning (60 s) must be below the critical level (10 s)"])
    }

    @Test func patroniTimingAndCertificateNames() {
        #expect(errors(Self.patroni) == [
            "schema/deployment.yaml:33:1: error: Patroni needs loop_wait + 2 * retry_timeout <= ttl (found 10 + 2 * 10 > 20)",
            "schema/deployment.yaml:44:33: error: the PostgreSQL certificate 'cert' does not name node 'db-2'; replication verifies host names (verify-full)",
        ])
        #expect(errors(Self.patroni.replacingOccurrences(of: "names: [db-1]", with: "names: [db-1, db-2]")
            .replacingOccurrences(of: "ttl: 20", with: "ttl: 30")) == [])
        #expect(errors(Self.patroni.replacingOccurrences(of: "names: [db-1]", with: "names: [db-1, db-2]")
            .replacingOccurrences(of: "ttl: 20", with: "ttl: 15").replacingOccurrences(of: "loop_wait: 10", with: "loop_wait: 1")
            .replacingOccurrences(of: "retry_timeout: 10", with: "retry_timeout: 5")) == [
            "schema/deployment.yaml:33:1: error: Patroni refuses a ttl below 20 seconds (found 15); lower loop_wait for a faster failover",
        ])
    }
}
