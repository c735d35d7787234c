/// `schema/deployment.yaml`, the sections after `services:` (proxy, postgres, redis, rabbitmq, backups,
/// monitoring). Shape only; whether the names they use exist is `SchemaValidator`'s job.
extension SchemaLoader {
    /// Reads the keys of one mapping, reporting a missing required key once at the mapping's key.
    struct SectionReader {
        let loader: SchemaLoader
        let entries: [SchemaNode.Entry]
        let what: String
        let location: SourceLocation
        private(set) var failed = false

        init(loader: SchemaLoader, entries: [SchemaNode.Entry], what: String, location: SourceLocation) {
            self.loader = loader
            self.entries = entries
            self.what = what
            self.location = location
        }

        func node(_ key: String) -> SchemaNode? { loader.value(entries, key) }

        private mutating func missing(_ key: String) {
            loader.diagnostics.error("\(what) \(what.hasSuffix("settings") ? "need" : "needs") '\(key)'", at: location)
            failed = true
        }

        mutating func string(_ key: String, default fallback: String? = nil) -> String {
            if let node = node(key) {
                if let text = loader.string(node, "'\(key)' of \(what)") { return text }
                failed = true
                return ""
            }
            if let fallback { return fallback }
            missing(key)
            return ""
        }

        mutating func located(_ key: String) -> Located<String> {
            if let node = node(key) {
                if let text = loader.locatedString(node, "'\(key)' of \(what)") { return text }
                failed = true
                return Located("", at: node.location)
            }
            missing(key)
            return Located("", at: location)
        }

        func optionalLocated(_ key: String) -> Located<String>? {
            node(key).flatMap { loader.locatedString($0, "'\(key)' of \(what)") }
        }

        mutating func int(_ key: String, default fallback: Int? = nil) -> Int {
            if let node = node(key) {
                if let number = loader.int(node, "'\(key)' of \(what)") { return number }
                failed = true
                return 0
            }
            if let fallback { return fallback }
            missing(key)
            return 0
        }

        mutating func seconds(_ key: String, default fallback: Int? = nil) -> Int {
            if let node = node(key) {
                if let number = loader.duration(node, "'\(key)' of \(what)") { return number }
                failed = true
                return 0
            }
            if let fallback { return fallback }
            missing(key)
            return 0
        }

        mutating func bool(_ key: String, default fallback: Bool) -> Bool {
            guard let node = node(key) else { return fallback }
            if let value = loader.bool(node, "'\(key)' of \(what)") { return value }
            failed = true
            return fallback
        }

        mutating func strings(_ key: String, default fallback: [String]? = nil) -> [String] {
            if let node = node(key) {
                if let list = loader.stringList(node, "'\(key)' of \(what)") { return list.map(\.value) }
                failed = true
                return []
            }
            if let fallback { return fallback }
            missing(key)
            return []
        }

        mutating func choice<T: RawRepresentable & CaseIterable>(_ key: String, default fallback: T) -> T where T.RawValue == String {
            guard let node = node(key) else { return fallback }
            if let value = loader.choice(node, "\(key) of \(what)", as: T.self) { return value }
            failed = true
            return fallback
        }

        /// `{ service: backend, port: http }`.
        mutating func servicePort(_ key: String) -> ServicePort {
            guard let node = node(key) else {
                missing(key)
                return ServicePort(service: Located("", at: location), port: Located("", at: location))
            }
            guard let entries = loader.mapping(node, "'\(key)' of \(what)", allowed: ["service", "port"]) else {
                failed = true
                return ServicePort(service: Located("", at: node.location), port: Located("", at: node.location))
            }
            var reader = SectionReader(loader: loader, entries: entries, what: "'\(key)' of \(what)", location: node.location)
            let reference = ServicePort(service: reader.located("service"), port: reader.located("port"))
            if reader.failed { failed = true }
            return reference
        }

        /// A nested mapping, read with its own reader.
        mutating func section(_ key: String, allowed: [String]) -> SectionReader? {
            guard let node = node(key) else { return nil }
            guard let entries = loader.mapping(node, "'\(key)' of \(what)", allowed: allowed) else {
                failed = true
                return nil
            }
            return SectionReader(loader: loader, entries: entries, what: "'\(key)' of \(what)", location: node.location)
        }
    }

    private func section(_ top: [SchemaNode.Entry], _ key: String, allowed: [String]) -> SectionReader? {
        guard let entry = top.first(where: { $0.key == key }) else { return nil }
        guard let entries = mapping(entry.value, "the \(key) settings", allowed: allowed) else { return nil }
        return SectionReader(loader: self, entries: entries, what: "the \(key) settings", location: entry.keyLocation)
    }

    func loadDeploymentSettings(_ top: [SchemaNode.Entry]) {
        schema.deployment.proxy = loadProxy(top)
        schema.deployment.postgres = loadPostgres(top)
        schema.deployment.redis = loadRedis(top)
        schema.deployment.rabbitmq = loadRabbitMQ(top)
        schema.deployment.backups = loadBackups(top)
        schema.deployment.monitoring = loadMonitoring(top)
    }

    private func loadProxy(_ top: [SchemaNode.Entry]) -> ProxySettings? {
        let keys = ["service", "upstream", "server_name", "certificate", "key", "status_port", "readiness", "max_fails",
                    "fail_timeout", "websocket", "login_limit", "routes"]
        guard var reader = section(top, "proxy", allowed: keys) else { return nil }
        let service = reader.located("service")
        let upstream = reader.servicePort("upstream")
        let serverName = reader.node("server_name").flatMap { node in
            perEnvironment(node, "the server_name of the proxy settings") { self.string($0, "the server_name of the proxy settings") }
        }
        if reader.node("server_name") == nil {
            diagnostics.error("the proxy settings need 'server_name' (the host name operators use, per environment if it differs)", at: reader.location)
        }
        let certificate = reader.located("certificate")
        let key = reader.located("key")
        let statusPort = reader.located("status_port")
        let readiness = reader.string("readiness", default: "/readyz")
        let maxFails = reader.int("max_fails", default: 2)
        let failTimeout = reader.seconds("fail_timeout", default: 10)
        var websocketPath = "/ws"
        var websocketTimeout = 3600
        if var websocket = reader.section("websocket", allowed: ["path", "timeout"]) {
            websocketPath = websocket.string("path", default: "/ws")
            websocketTimeout = websocket.seconds("timeout", default: 3600)
            if websocket.failed { return nil }
        }
        var loginLimit: ProxySettings.LoginLimit?
        if var limit = reader.section("login_limit", allowed: ["paths", "rate", "burst"]) {
            loginLimit = .init(paths: limit.strings("paths"), rate: limit.located("rate"), burst: limit.int("burst", default: 0))
            if limit.failed { return nil }
        }
        var routes: [ProxySettings.Route] = []
        if let node = reader.node("routes"), let entries = mapping(node, "the routes of the proxy settings") {
            for entry in entries {
                guard let body = mapping(entry.value, "route '\(entry.key)'", allowed: ["service", "port"]) else { continue }
                var route = SectionReader(loader: self, entries: body, what: "route '\(entry.key)'", location: entry.keyLocation)
                let target = ServicePort(service: route.located("service"), port: route.located("port"))
                if !route.failed { routes.append(.init(path: entry.key, target: target)) }
            }
        }
        guard !reader.failed, let serverName else { return nil }
        return ProxySettings(location: reader.location, service: service, upstream: upstream, serverName: serverName,
                             certificate: certificate, key: key, statusPort: statusPort, readinessPath: readiness,
                             maxFails: maxFails, failTimeoutSeconds: failTimeout, websocketPath: websocketPath,
                             websocketTimeoutSeconds: websocketTimeout, loginLimit: loginLimit, routes: routes)
    }

    private func loadPostgres(_ top: [SchemaNode.Entry]) -> PostgresSettings? {
        guard var reader = section(top, "postgres", allowed: ["database", "user", "password", "patroni", "pgbouncer"]) else { return nil }
        let database = reader.string("database")
        let user = reader.string("user")
        let password = reader.located("password")
        var patroni: PostgresSettings.Patroni?
        let patroniKeys = ["scope", "nodes", "dcs", "dcs_tls", "superuser_password", "replication_password", "api_password", "tls", "ttl",
                           "loop_wait", "retry_timeout", "maximum_lag_on_failover", "synchronous_mode", "failsafe_mode", "parameters"]
        if var section = reader.section("patroni", allowed: patroniKeys) {
            let nodes = section.node("nodes").flatMap { stringList($0, "'nodes' of the patroni settings") } ?? []
            if nodes.isEmpty { diagnostics.error("the patroni settings need 'nodes' (the Patroni services)", at: section.location) }
            let scope = section.string("scope")
            let dcs = section.servicePort("dcs")
            let superuser = section.located("superuser_password")
            let replication = section.located("replication_password")
            let api = section.located("api_password")
            var tls: PostgresSettings.Patroni.TLS?
            if var tlsReader = section.section("tls", allowed: ["ca", "certificate", "key"]) {
                tls = .init(ca: tlsReader.located("ca"), certificate: tlsReader.located("certificate"), key: tlsReader.located("key"))
                if tlsReader.failed { tls = nil }
            } else {
                diagnostics.error("the patroni settings need 'tls' (ca, certificate, key): replication verifies the server (verify-full)", at: section.location)
            }
            var dcsTLS: PostgresSettings.Patroni.TLS?
            if var tlsReader = section.section("dcs_tls", allowed: ["ca", "certificate", "key"]) {
                dcsTLS = .init(ca: tlsReader.located("ca"), certificate: tlsReader.located("certificate"), key: tlsReader.located("key"))
                if tlsReader.failed { dcsTLS = nil }
            }
            var parameters: [PostgresSettings.Patroni.Parameter] = []
            if let node = section.node("parameters"), let entries = mapping(node, "the PostgreSQL parameters") {
                for entry in entries {
                    if let text = string(entry.value, "parameter '\(entry.key)'") {
                        parameters.append(.init(name: Located(entry.key, at: entry.keyLocation), value: text))
                    }
                }
            }
            let settings = (ttl: section.int("ttl", default: 30), loopWait: section.int("loop_wait", default: 10),
                            retryTimeout: section.int("retry_timeout", default: 10),
                            lag: section.int("maximum_lag_on_failover", default: 1_048_576),
                            synchronous: section.bool("synchronous_mode", default: false),
                            failsafe: section.bool("failsafe_mode", default: false))
            if !section.failed, !nodes.isEmpty, let tls {
                patroni = .init(scope: scope, nodes: nodes, dcs: dcs, superuserPassword: superuser, replicationPassword: replication,
                                apiPassword: api, tls: tls, dcsTLS: dcsTLS, ttl: settings.ttl, loopWait: settings.loopWait,
                                retryTimeout: settings.retryTimeout, maximumLagOnFailover: settings.lag,
                                synchronousMode: settings.synchronous, failsafeMode: settings.failsafe, parameters: parameters)
            }
        }
        var pgbouncer: PostgresSettings.PgBouncer?
        if var section = reader.section("pgbouncer", allowed: ["service", "admin_password", "pool_mode", "default_pool_size", "max_client_conn", "client_tls"]) {
            var clientTLS: PostgresSettings.PgBouncer.ClientTLS?
            if var tlsReader = section.section("client_tls", allowed: ["certificate", "key"]) {
                clientTLS = .init(certificate: tlsReader.located("certificate"), key: tlsReader.located("key"))
                if tlsReader.failed { clientTLS = nil }
            }
            var bouncer = PostgresSettings.PgBouncer(
                service: section.located("service"), adminPassword: section.located("admin_password"),
                poolMode: section.choice("pool_mode", default: .transaction), defaultPoolSize: section.int("default_pool_size", default: 20),
                maxClientConnections: section.int("max_client_conn", default: 500))
            bouncer.clientTLS = clientTLS
            if !section.failed { pgbouncer = bouncer }
        }
        if reader.failed { return nil }
        return PostgresSettings(location: reader.location, database: database, user: user, password: password,
                                patroni: patroni, pgbouncer: pgbouncer)
    }

    private func loadRedis(_ top: [SchemaNode.Entry]) -> RedisSettings? {
        guard var reader = section(top, "redis", allowed: ["service", "password", "maxmemory", "eviction", "appendfsync", "save"]) else { return nil }
        let service = reader.located("service")
        let password = reader.located("password")
        let maxmemory = reader.node("maxmemory").flatMap { node in
            perEnvironment(node, "the maxmemory of the redis settings") { self.string($0, "the maxmemory of the redis settings") }
        }
        if maxmemory == nil && reader.node("maxmemory") == nil {
            diagnostics.error("the redis settings need 'maxmemory' (a size such as 1536mb, per environment if it differs)", at: reader.location)
        }
        let eviction = Located(reader.choice("eviction", default: RedisSettings.Eviction.noeviction),
                               at: reader.node("eviction")?.location ?? reader.location)
        let appendfsync = Located(reader.choice("appendfsync", default: RedisSettings.AppendFsync.always),
                                  at: reader.node("appendfsync")?.location ?? reader.location)
        let save = reader.strings("save", default: [])
        guard !reader.failed, let maxmemory else { return nil }
        return RedisSettings(location: reader.location, service: service, password: password, maxmemory: maxmemory,
                             eviction: eviction, appendfsync: appendfsync, save: save)
    }

    private func loadRabbitMQ(_ top: [SchemaNode.Entry]) -> RabbitMQSettings? {
        guard var reader = section(top, "rabbitmq", allowed: ["service", "vhost", "users", "erlang_cookie"]) else { return nil }
        let service = reader.located("service")
        let vhost = reader.string("vhost")
        var users: [RabbitMQUser] = []
        if let node = reader.node("users"), let entries = mapping(node, "'users' of the rabbitmq settings") {
            for entry in entries {
                let what = "RabbitMQ user '\(entry.key)'"
                guard let body = mapping(entry.value, what, allowed: ["password", "consumes", "publishes", "doc"]) else { continue }
                var user = SectionReader(loader: self, entries: body, what: what, location: entry.keyLocation)
                let password = user.located("password")
                let consumes = user.node("consumes").flatMap { stringList($0, "'consumes' of \(what)") } ?? []
                let publishes = user.node("publishes").flatMap { stringList($0, "'publishes' of \(what)") } ?? []
                if !user.failed {
                    users.append(RabbitMQUser(name: entry.key, location: entry.keyLocation, password: password, consumes: consumes, publishes: publishes))
                }
            }
        } else if reader.node("users") == nil {
            diagnostics.error("the rabbitmq settings need 'users' (one per kind of client, with what it consumes and publishes)", at: reader.location)
            return nil
        }
        let cookie = reader.optionalLocated("erlang_cookie")
        return reader.failed ? nil : RabbitMQSettings(location: reader.location, service: service, vhost: vhost, users: users, erlangCookie: cookie)
    }

    private func loadBackups(_ top: [SchemaNode.Entry]) -> BackupSettings? {
        guard var reader = section(top, "backups", allowed: ["service", "nas", "database", "media"]) else { return nil }
        let service = reader.located("service")
        let nas = reader.string("nas")
        guard var database = reader.section("database", allowed: ["every", "keep"]),
              var media = reader.section("media", allowed: ["every", "volume"]) else {
            diagnostics.error("the backups settings need 'database: { every, keep }' and 'media: { every, volume }'", at: reader.location)
            return nil
        }
        let settings = BackupSettings(location: reader.location, service: service, nas: nas,
                                      databaseEverySeconds: database.seconds("every"), databaseKeep: database.int("keep"),
                                      mediaEverySeconds: media.seconds("every"), mediaVolume: media.located("volume"))
        return reader.failed || database.failed || media.failed ? nil : settings
    }

    private func loadMonitoring(_ top: [SchemaNode.Entry]) -> MonitoringSettings? {
        guard var reader = section(top, "monitoring", allowed: ["prometheus", "grafana", "scrape_interval", "alerts"]) else { return nil }
        let prometheus = reader.located("prometheus")
        let grafana = reader.optionalLocated("grafana")
        let interval = reader.seconds("scrape_interval", default: 15)
        let alertKeys = ["relay_active_instances", "replication_lag", "sms_silence", "panel_disconnected", "backend_not_ready", "login_refusals", "dc09_silence"]
        guard var alerts = reader.section("alerts", allowed: alertKeys) else {
            diagnostics.error("the monitoring settings need 'alerts' (\(alertKeys.joined(separator: ", ")))", at: reader.location)
            return nil
        }
        guard var relay = alerts.section("relay_active_instances", allowed: ["below", "for"]),
              var lag = alerts.section("replication_lag", allowed: ["warning", "critical", "for"]),
              var logins = alerts.section("login_refusals", allowed: ["per_minute", "for"]) else {
            diagnostics.error("the alerts need 'relay_active_instances: { below, for }', 'replication_lag: { warning, critical, for }' and 'login_refusals: { per_minute, for }'", at: alerts.location)
            return nil
        }
        let settings = MonitoringSettings(
            location: reader.location, prometheus: prometheus, grafana: grafana, scrapeIntervalSeconds: interval,
            relayMinimumActive: relay.int("below"), relayForSeconds: relay.seconds("for"),
            replicationLagWarningSeconds: lag.seconds("warning"), replicationLagCriticalSeconds: lag.seconds("critical"),
            replicationLagForSeconds: lag.seconds("for", default: 60), smsSilenceSeconds: alerts.seconds("sms_silence"),
            panelDisconnectedSeconds: alerts.seconds("panel_disconnected"), backendNotReadySeconds: alerts.seconds("backend_not_ready"),
            loginRefusalsPerMinute: logins.int("per_minute"), loginRefusalsForSeconds: logins.seconds("for"),
            dc09SilenceSeconds: alerts.node("dc09_silence") == nil ? nil : alerts.seconds("dc09_silence"))
        return reader.failed || alerts.failed || relay.failed || lag.failed || logins.failed ? nil : settings
    }
}
