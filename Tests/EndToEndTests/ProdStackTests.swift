import Foundation
import DevStack
import Logging
import NIOSSL
import TestSupport
import Testing

/// `stam up --env prod`: the generated production compose file on the real container engine (podman with
/// docker-compose; the seed's 13 containers: etcd, two Patroni nodes, PgBouncer, Redis, RabbitMQ, two backends,
/// two relays, the worker, the SMS agent, nginx; plus the one-shot migrate, backup, Prometheus and the exporters),
/// images built from the generated Dockerfiles, driven from outside through nginx with TLS, as operators reach it:
/// - issue 20 in headless Chromium (`ConsoleWalk`): a burglary from the simulated panel handled in the alarm view
///   with its action plan, a silent panel's no_signal and its restore, a partition late to close, the KPI page;
/// - a zone violation reaches an authenticated WebSocket client; acknowledge/take/close through the API,
///   audited; disarm and arm reach the simulated panel and their results come back; an SMS becomes an alarm;
/// - one relay killed: the other carries on and `outbox_relay_active_instances` drops to 1;
/// - one backend killed: a client reconnects through nginx to the other and gets live events;
/// - Redis killed and its data wiped: the live state is rebuilt;
/// - the PostgreSQL primary killed (-9, its whole container) while a panel produces events steadily: Patroni
///   promotes the replica, PgBouncer follows, the backends and the worker carry on without a restart, and
///   every event the panel produced is in the database exactly once;
/// - `stam up` killed with SIGKILL (the containers run on, the engine's) and started again on the same data;
/// - an update by deploy/generated/update.sh: a failing migration restarts nothing, a good one rolls out behind nginx;
/// - SIGTERM to `stam up` removes the containers and networks (`docker-compose down`) and keeps the volumes.
@Suite(.serialized, .integration, .tags(.integration)) struct ProdStackTests {
    let logger = Logger(label: "test.e2e.prod")

    @Test(.timeLimit(.minutes(15))) func theProductionTopologyServesOperatorsAndSurvivesItsFailures() async throws {
        let stack = try await LocalStackRun.start(panels: 3, environment: "prod", timeout: .seconds(300))
        var stopped = false
        defer {
            if !stopped { stack.stop() }
            stack.removeState()
        }
        let summary = stack.summary
        let nginx = try summary.address("nginx")
        let certificate = try #require(summary.certificate)
        // nginx's 443 is also published on loopback, as compose's `ports:` does.
        let published = try #require(URL(string: summary.api)?.port, "\(summary.api)")
        #expect(try LocalProcess.run("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", certificate,
                                                       "--resolve", "stam.local:\(published):127.0.0.1", "https://stam.local:\(published)/healthz"]) == "200")
        // The images as an admin gets them: the stam services run as uid 10001 and found their schema made by the
        // one-shot migrate container (the image's migrations, through PgBouncer), which exited with 0.
        let project = try #require(summary.composeProject)
        #expect(try LocalStackRun.podman(["exec", "\(project)_backend-1_1", "id", "-u"]) == "10001")
        #expect(try LocalStackRun.podman(["inspect", "--format", "{{.State.ExitCode}}", "\(project)_migrate_1"]) == "0")
        #expect(try LocalStackRun.podman(["logs", "\(project)_migrate_1"]).contains("migrate: "))
        var api = OperatorAPI(base: "https://stam.local", curlOptions: ["--cacert", certificate, "--resolve", "stam.local:443:\(nginx)"])
        try api.login(summary.adminLogin, password: try stack.adminPassword)
        let token = try #require(api.token)
        var tls = TLSConfiguration.makeClientConfiguration()
        // BoringSSL does not take a self-signed leaf (key usage without keyCertSign, as `stam secrets init` makes
        // nginx's) as its own trust anchor; curl above verifies the same certificate and name (OpenSSL, partial
        // chains), so the WebSocket only encrypts.
        tls.certificateVerification = .none
        let webSocket = "wss://\(nginx)/ws"
        let panel = summary.panelIDs[0]
        let operatorAPI = api
        let scratch = stack.run.path
        let control = (host: summary.controlHost, port: summary.simulatorControlPort)
        let logger = logger

        /// A violation of zone 3 on panel 1 and its AlarmRaised on a console through nginx, then the restore.
        @Sendable func alarmReaches(_ console: LiveConsole) async throws -> String {
            #expect(try await ControlLine.send("{ panel: 1, action: violate-zone, zone: 3 }", port: control.port, host: control.host).hasPrefix("ok"))
            let raised = try await console.event("AlarmRaised") { same($0["panel_id"], panel) && $0["zone_number"] as? Int == 3 }
            #expect(try await ControlLine.send("{ panel: 1, action: restore-zone, zone: 3 }", port: control.port, host: control.host).hasPrefix("ok"))
            return try #require(raised["alarm_id"] as? String)
        }

        @Sendable func subscribed(_ console: LiveConsole) async throws {
            _ = try await console.waitFor("ready") { $0["type"] as? String == "ready" }
            try await console.send(#"{"type":"subscribe","alarms":true,"panels":["\#(panel)"]}"#)
            _ = try await console.waitFor("subscribed") { $0["type"] as? String == "subscribed" }
        }

        // The demo arms the panels' partitions as the stack comes up; a violation before the panel (and the worker)
        // has them armed raises no alarm, as on a real panel. Start once the station shows partition 1 armed.
        try await eventually("partition 1 of panel 1 armed", timeout: .seconds(60)) {
            try api.call("GET", "/api/partitions?panel_id=\(panel)&limit=50").items
                .contains { $0["number"] as? Int == 1 && ($0["arm_mode"] as? String).map { $0 != "disarmed" } == true }
        }
        // Issue 20 in headless Chromium through nginx, before anything else is open on the stack (ConsoleWalk).
        let walkDirectory = try RunDirectory.create("prod-console").path
        defer { try? FileManager.default.removeItem(atPath: walkDirectory) }
        // Kept after the test, for a person to look at (and for docs/ALARM-KPIS.md).
        let kept = FileManager.default.temporaryDirectory.appendingPathComponent("stam-prod-console-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: kept, withIntermediateDirectories: true)
        let chromium = try await HeadlessChromium.launch(
            directory: "\(walkDirectory)/chromium", registry: "\(walkDirectory)/processes",
            width: ConsoleWalk.viewport.width, height: ConsoleWalk.viewport.height,
            // nginx by the name its certificate carries; the certificate is self-signed (curl above verified it).
            extraArguments: ["--host-resolver-rules=MAP stam.local \(nginx)", "--ignore-certificate-errors"])
        do {
            let walk = ConsoleWalk(api: api, login: summary.adminLogin, password: try stack.adminPassword, panels: summary.panelIDs,
                                   control: control, output: kept)
            try await chromium.withPage { page in try await walk.run(page: page) }
            chromium.stop()
        } catch {
            chromium.stop()
            throw error
        }
        print("console walk screenshots and KPI report: \(kept.path)")

        // Alarm handling, commands and SMS, all through nginx.
        try await LiveConsole.connect(url: webSocket, token: token, tls: tls, serverName: "stam.local", logger: logger) { console in
            try await subscribed(console)
            let alarm = try await alarmReaches(console)
            try await OperatorSteps.handle(alarm: alarm, api: operatorAPI, console: console, requestPrefix: "prod")
            try await OperatorSteps.disarmThenArm(panel: panel, api: operatorAPI, console: console)
            // Longer than one SMS: the modem holds two parts, which the agent keeps in its part store, the
            // sms-parts volume at /var/lib/stam/sms, until both are there (so the image's user must own it).
            // 171 characters with "ALARM ": two parts, and the alarm's title (200 at most) still holds all of it.
            let longText = "smoke in the server room, " + String(repeating: "detector 4 and 5 active; ", count: 5) + "call the guard"
            try await OperatorSteps.smsRaisesAnAlarm(text: longText, modemControl: summary.modemControl,
                                                     api: operatorAPI, console: console)
            // Issue 22: a DC-09 communicator's alarm through the second receiver's published port (its secondary path).
            try await OperatorSteps.dc09RaisesAnAlarm(receiver: try #require(summary.dc09Receivers?.last), api: operatorAPI, console: console,
                                                      scratch: scratch)
        }
        // The handling report over what this run raised and handled so far, by class and by operator, kept with the
        // walk's screenshots (docs/ALARM-KPIS.md is made from a run's).
        for by in ["priority", "operator"] {
            let csv = try LocalProcess.run("/usr/bin/curl", api.curlOptions + [
                "-s", "-H", "Authorization: Bearer \(token)", "https://stam.local/api/reports/handling?\(ConsoleWalk.reportQuery(by: by))&format=csv"])
            #expect(csv.hasPrefix("period,"), "\(csv.prefix(300))")
            try csv.write(to: kept.appendingPathComponent("handling-run-by-\(by).csv"), atomically: true, encoding: .utf8)
        }

        // Operator access from two addresses of their own, through nginx: an attacker hammering the admin's
        // password does not lock the admin out, the attempts are audited with the attacker's address, and a logout
        // ends the token on both backends (asked directly, past nginx's stickiness).
        @Sendable func client(_ name: String) throws -> (api: OperatorAPI, address: String) {
            let container = "\(project)_\(name)"
            // Through the engine's service (--url), as compose's containers are: a container started by this podman
            // process would leave its conmon holding the output pipe open, and the call would never return.
            try LocalStackRun.podman(["--url", ContainerEngine.dockerHost, "run", "-d", "--name", container,
                                      "--label", "com.docker.compose.project=\(project)", "--network", "\(project)_edge",
                                      "--entrypoint", "sleep", "localhost/stam-replacer-backend:latest", "infinity"])
            let address = try LocalStackRun.podman(["inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", container])
            return (OperatorAPI(base: "https://stam.local", curlOptions: ["-k", "--resolve", "stam.local:443:\(nginx)"], container: container), address)
        }
        // The backends believe nginx's X-Real-IP once they have resolved its name (nginx starts after them).
        for backend in ["backend-1", "backend-2"] {
            try await eventually("\(backend) trusts nginx", timeout: .seconds(30)) {
                try LocalStackRun.podman(["logs", "\(project)_\(backend)_1"]).contains("trusted proxies")
            }
        }
        let (attacker, attackerAddress) = try client("attacker")
        let (deskClient, deskAddress) = try client("admin-desk")
        var desk = deskClient
        #expect(attackerAddress != deskAddress && !attackerAddress.isEmpty)
        let guesses = try (0..<6).map { _ in
            try attacker.call("POST", "/api/auth/login", body: #"{"login":"\#(summary.adminLogin)","password":"a wrong guess"}"#).status
        }
        // Three free failures, then refusals; a guess that comes after its delay ran out (1 s, then 2 s: a slow
        // machine) is checked again, and counted, as the throttle says.
        #expect(Array(guesses.prefix(4)) == [401, 401, 401, 429] && guesses.allSatisfy { $0 == 401 || $0 == 429 }, "\(guesses)")
        try desk.login(summary.adminLogin, password: try stack.adminPassword)  // throws unless 200
        let failures = try api.call("GET", "/api/audit-entries?action=login_failed&limit=100").items
        #expect(failures.filter { $0["address"] as? String == attackerAddress }.count == guesses.filter { $0 == 401 }.count, "\(failures)")
        #expect(try api.call("GET", "/api/audit-entries?action=login&limit=100").items.contains { $0["address"] as? String == deskAddress })
        let deskToken = try #require(desk.token)
        #expect(try desk.call("POST", "/api/auth/logout").status == 204)
        for backend in ["backend-1", "backend-2"] {
            var direct = OperatorAPI(base: "http://\(backend):8000", container: attacker.container)
            direct.token = deskToken
            try await eventually("\(backend) refuses the logged-out token", timeout: .seconds(15)) {
                try direct.call("GET", "/api/sites").status == 401
            }
        }
        // The walls between networks: a container on the edge network (where the attacker and the desk stand, as
        // nginx does) opens a connection to nginx, and none to etcd, the database nodes, PgBouncer, Redis or
        // RabbitMQ, by name (no such host on the edge) or by address through the host (isolated networks drop it).
        let edgeContainer = try #require(attacker.container)
        @Sendable func opens(_ host: String, _ port: Int) throws -> Bool {
            let (status, _) = try LocalProcess.status("/usr/bin/podman", [
                "exec", edgeContainer, "bash", "-c", "timeout 3 bash -c 'exec 3<>/dev/tcp/\(host)/\(port)'"])
            return status == 0
        }
        #expect(try opens("nginx", 443), "the edge reaches nginx")
        for (service, port) in [("etcd", 2379), ("pg-primary", 5432), ("pg-replica", 5433), ("pgbouncer", 6432), ("redis", 6379), ("rabbitmq", 5672)] {
            let addresses = try LocalStackRun.podman(["inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}",
                                                      "\(project)_\(service)_1"]).split(separator: " ").map(String.init)
            #expect(!addresses.isEmpty, "\(service) has an address")
            #expect(try !opens(service, port), "the edge reaches \(service) by name")
            for address in addresses { #expect(try !opens(address, port), "the edge reaches \(service) at \(address)") }
        }

        // The backends' figures are on their own port: Prometheus scrapes it, the API's port (nginx's upstream)
        // does not serve them.
        let backend2 = try summary.address("backend-2")
        #expect(try await HTTPGet.get(port: 8000, host: backend2, path: "/metrics", timeout: 5).status == 404)
        // stam_ready is set at every scrape (a login counter exists only once that backend saw a login, and ip_hash
        // may have sent every login to the other one).
        #expect(try await HTTPGet.get(port: 9100, host: backend2, path: "/metrics", timeout: 5).body.contains("\nstam_ready 1"))
        let prometheus = try summary.address("prometheus")
        try await eventually("Prometheus scrapes both backends", timeout: .seconds(60)) {
            let answer = try await HTTPGet.get(port: 9090, host: prometheus, path: "/api/v1/query?query=up%7Bjob%3D%22backend%22%7D%3D%3D1", timeout: 5)
            return answer.body.contains("backend-1:9100") && answer.body.contains("backend-2:9100")
        }

        // Issue 18 point 1: every series the alert rules and the dashboard query is scraped from a real process
        // (the services' own pages and the exporters).
        for series in try MonitoredSeries.alertRules().union(MonitoredSeries.dashboard()).sorted() {
            try await eventually("Prometheus has \(series)", timeout: .seconds(60)) {
                let answer = try await HTTPGet.get(port: 9090, host: prometheus, path: "/api/v1/query?query=count(\(series))", timeout: 5)
                return answer.body.contains("\"result\":[{")
            }
        }

        // Gone before the update step: compose's --remove-orphans would take containers of its project that no
        // service declares for orphans (the label is only there so a killed run's cleanup finds them).
        for name in ["attacker", "admin-desk"] { try LocalStackRun.podman(["rm", "-f", "-t", "0", "\(project)_\(name)"]) }

        // One relay killed: the other publishes everything and sees itself alone.
        try stack.stopService("outbox-relay-1", kill: true)
        let relay2 = try summary.address("outbox-relay-2")
        try await eventually("outbox_relay_active_instances drops to 1", timeout: .seconds(60)) {
            let metrics = try await HTTPGet.get(port: 9100, host: relay2, path: "/metrics", timeout: 5).body
            return metrics.contains("outbox_relay_active_instances 1")
        }
        // One backend killed: a console reconnects through nginx and is served by the other.
        try stack.stopService("backend-1", kill: true)
        var again = api
        try again.login(summary.adminLogin, password: try stack.adminPassword)
        let secondToken = try #require(again.token)
        try await LiveConsole.connect(url: webSocket, token: secondToken, tls: tls, serverName: "stam.local", logger: logger) { console in
            try await subscribed(console)
            _ = try await alarmReaches(console)  // published by relay 2, delivered by backend 2
        }
        try stack.startService("backend-1")
        try stack.startService("outbox-relay-1")

        // Redis killed and its data gone: leases and live state come back from the worker. (A container the engine
        // starts again usually gets a new address: stack.json follows it, the services find it by name.)
        let redisPassword = try String(contentsOfFile: "\(stack.root)/secrets/redis_password", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let root = stack.root
        @Sendable func redisCLI(_ arguments: [String]) throws -> String {
            let redis = try LocalStackRun.currentAddress(of: "redis", root: root)
            return try LocalProcess.run("/usr/bin/redis-cli", ["-h", redis] + arguments, environment: ["REDISCLI_AUTH": redisPassword])
        }
        #expect(try redisCLI(["EXISTS", "panel:\(panel):state"]).contains("1"))
        try stack.stopService("redis", kill: true)
        let redisData = try LocalStackRun.podman(["volume", "inspect", "--format", "{{.Mountpoint}}", "\(project)_redis-data"])
        #expect(!(try FileManager.default.contentsOfDirectory(atPath: redisData)).isEmpty, "Redis wrote nothing to its volume")
        for file in try FileManager.default.contentsOfDirectory(atPath: redisData) {
            try FileManager.default.removeItem(atPath: "\(redisData)/\(file)")
        }
        try stack.startService("redis")
        try await eventually("the live state is rebuilt in the new Redis", timeout: .seconds(180)) {
            try redisCLI(["HGET", "panel:\(panel):state", "connection"]).contains("connected")
        }

        // Failover. The application's processes must ride through it: their PIDs stay.
        try stack.reloadSummary()
        let before = stack.summary.processes
        let database = try summary.address("pgbouncer")
        let postgresPassword = try String(contentsOfFile: "\(stack.root)/secrets/postgres_password", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        @Sendable func sql(_ statement: String) throws -> String {
            try LocalProcess.run("/usr/bin/psql", ["host=\(database) port=6432 dbname=stam user=app connect_timeout=3", "-XAtq",
                                                   "-v", "ON_ERROR_STOP=1", "-c", statement],
                                 environment: ["PGPASSWORD": postgresPassword, "PATH": "/usr/bin:/bin"])
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let panel2 = summary.panelIDs[1]
        @Sendable func simulatorRecords() async throws -> Int {
            let state = try await ControlLine.send("{ panel: 2, action: state }", port: control.port, host: control.host)
            return try #require(state.split(separator: " ").first { $0.hasPrefix("events=") }.flatMap { Int($0.dropFirst(7)) }, "\(state)")
        }
        let firstDuringFailover = try await simulatorRecords()
        let producer = Task {
            // Panel 2: zone 5 violated and restored, one change every 250 ms (each an event-log record).
            var violated = false
            while !Task.isCancelled {
                violated.toggle()
                _ = try? await ControlLine.send("{ panel: 2, action: \(violated ? "violate" : "restore")-zone, zone: 5 }",
                                                port: control.port, host: control.host, timeout: 3)
                try? await Task.sleep(for: .milliseconds(250))
            }
        }
        defer { producer.cancel() }
        try await Task.sleep(for: .seconds(3))
        // The engine's kill straight away (`stam stop --kill` is docker-compose kill, whose own start-up of several
        // seconds would count as failover time).
        let killed = ContinuousClock.now
        try LocalStackRun.podman(["kill", "--signal", "KILL", "\(project)_pg-primary_1"])
        try await eventually("writes succeed through PgBouncer again", timeout: .seconds(90)) {
            (try? sql("SELECT txid_current() > 0")) == "t"
        }
        let writesBack = ContinuousClock.now - killed
        logger.info("writes back after the primary was killed", metadata: ["seconds": "\(writesBack)"])
        let replica = try summary.address("pg-replica")
        #expect(try await HTTPGet.get(port: 8009, host: replica, path: "/primary", timeout: 5).status == 200)
        try await Task.sleep(for: .seconds(5))
        producer.cancel()
        _ = await producer.result

        // Every record the panel wrote (its event log's indexes run 0..<produced) from before the kill to the
        // end is stored exactly once: no gap, no duplicate, none given up. (The records before the worker first
        // connected are history it never reads.)
        let produced = try await simulatorRecords()
        #expect(produced > firstDuringFailover + 20, "the producer made \(produced - firstDuringFailover) records")
        let stored = "SELECT count(*), count(DISTINCT log_index), min(log_index), max(log_index), count(*) FILTER (WHERE log_index IS NULL) FROM panel_events WHERE panel_id = '\(panel2)' AND source = 'event_log'"
        var counts = ""
        try await eventually("the worker stored the last record of panel 2 (index \(produced - 1))", timeout: .seconds(90)) {
            counts = (try? sql(stored)) ?? counts
            return counts.split(separator: "|").dropFirst(3).first == Substring(String(produced - 1))
        }
        let figures = counts.split(separator: "|").map { Int($0) ?? -1 }
        let complete = figures.count == 5 && figures[0] == figures[1] && figures[0] == figures[3] - figures[2] + 1 && figures[4] == 0
        #expect(complete, "stored records of panel 2 (count, distinct, min, max, given up): \(counts)\n\(complete ? "" : failoverStory(panel: panel2, sql: sql, worker: "\(project)_satel-worker_1"))")
        #expect(figures.count == 5 && figures[2] <= firstDuringFailover, "the stored records start after the failover began: \(counts)")
        try stack.reloadSummary()
        for name in ["backend-1", "backend-2", "outbox-relay-1", "outbox-relay-2", "satel-worker", "pgbouncer"] {
            #expect(stack.summary.processes[name] == before[name], "\(name) was restarted across the failover")
        }
        // The old primary comes back as a replica of the new one.
        try stack.startService("pg-primary")
        try await eventually("pg-primary rejoins as a replica", timeout: .seconds(120)) {
            (try? await HTTPGet.get(port: 8008, host: try LocalStackRun.currentAddress(of: "pg-primary", root: root), path: "/replica", timeout: 5))?.status == 200
        }
        // Reports follow the roles: the host named pg-replica is the primary now, the rejoined pg-primary the replica
        // they run on, and the header says so.
        try await eventually("reports run on the rejoined replica", timeout: .seconds(60)) {
            try api.header("X-Report-Source", of: "/api/reports/alarms") == "replica"
        }

        // The backup container's scheduler takes a dump when one is due (its last run set back, as a day passing
        // would), to the backups volume and the NAS; that dump, restored by the image's `stam-backup restore` into a
        // fresh PostgreSQL container (the postgres image's POSTGRES_* contract), has the live database's rows.
        let backup = "\(project)_backup_1"
        @Sendable func dumps() throws -> Set<String> {
            Set(try LocalStackRun.podman(["exec", backup, "sh", "-c", "ls -1 /backups/db 2>/dev/null || true"])
                .split(separator: "\n").map(String.init).filter { $0.hasSuffix(".dump") })
        }
        let earlierDumps = try dumps()
        try LocalStackRun.podman(["exec", backup, "sh", "-c", "echo 0 > /backups/.state/database.ran"])
        var dump = ""
        try await eventually("the backup scheduler took a dump", timeout: .seconds(150)) {
            dump = try dumps().subtracting(earlierDumps).sorted().last ?? ""
            return !dump.isEmpty
        }
        #expect(FileManager.default.fileExists(atPath: "\(stack.root)/nas/db/\(dump)"), "the dump \(dump) is not on the NAS")
        let tables = ["operators", "sites", "panels", "zones", "alarms", "panel_events", "audit_entries", "sms_messages", "commands"]
        let counting = "SELECT " + tables.map { "(SELECT count(*) FROM \($0))" }.joined(separator: " || '|' || ")
        let live = try sql(counting)
        let restore = "\(project)_restore_check"
        _ = try? LocalStackRun.podman(["rm", "-f", restore])
        // Every descriptor but 0-2 closed and the output to /dev/null: the container's monitor (conmon) inherits podman's
        // descriptors, and an inherited end of this test's output pipe would stay open as long as the container runs.
        try LocalProcess.run("/bin/bash", ["-c", """
            for fd in /proc/$$/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null; done
            exec /usr/bin/podman run -d --name \(restore) --network \(project)_data -e POSTGRES_USER=app \
                -e POSTGRES_PASSWORD=restore-check -e POSTGRES_DB=stam docker.io/library/postgres:15 </dev/null >/dev/null 2>&1
            """])
        defer { _ = try? LocalStackRun.podman(["rm", "-f", restore]) }
        @Sendable func restored(_ statement: String) throws -> String {
            try LocalStackRun.podman(["exec", restore, "psql", "-h", "127.0.0.1", "-U", "app", "-d", "stam", "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", statement])
        }
        try await eventually("the fresh PostgreSQL container accepts connections", timeout: .seconds(60)) { (try? restored("SELECT 1")) == "1" }
        let restoreAddress = try LocalStackRun.podman(["inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", restore])
        try LocalStackRun.podman([
            "run", "--rm", "--network", "\(project)_data", "-v", "\(project)_backups:/backups:ro",
            "-v", "\(StamBinary.projectRoot)/deploy/generated/backup/backup.conf:/etc/stam-backup.conf:ro", "-e", "PGPASSWORD=restore-check",
            "localhost/stam-backup:latest", "stam-backup", "restore", "/backups/db/\(dump)", "host=\(restoreAddress) port=5432 dbname=stam user=app",
        ])
        let restoredCounts = try restored(counting)
        #expect(restoredCounts == live, "rows (\(tables.joined(separator: "|"))): restored \(restoredCounts), live \(live)")
        #expect(live.split(separator: "|").dropFirst(5).first.flatMap { Int($0) } ?? 0 > 20, "few panel events to compare: \(live)")
        // Gone before the stack stops: a container on the project's network keeps docker-compose down from removing it.
        try LocalStackRun.podman(["rm", "-f", restore])

        // `stam up` killed with SIGKILL: its containers are the engine's and run on; the next `stam up` takes the
        // same project over and finds its data again.
        kill(stack.process.pid, SIGKILL)
        while stack.process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        #expect(try LocalProcess.status("/usr/bin/podman", ["container", "exists", "\(project)_pg-replica_1"]).0 == 0)
        try await stack.restart(timeout: .seconds(300))
        // compose recreated what changed (the modem simulator's new pty, and what depends on it): nginx may have a new address.
        var afterRestart = OperatorAPI(base: "https://stam.local", curlOptions: [
            "--cacert", certificate, "--resolve", "stam.local:443:\(try stack.summary.address("nginx"))",
        ])
        try afterRestart.login(summary.adminLogin, password: try stack.adminPassword)
        #expect(try afterRestart.call("GET", "/api/sms-messages").items.contains {
            ($0["body"] as? String)?.contains("smoke in the server room") == true
        }, "the data of the first run is gone")

        // An update as DEPLOYMENT.md section 1 has the admin run it: CI's new `:latest` images (here the backend image
        // with one more migration, tagged over the built one, as `pull` would), then deploy/generated/update.sh.
        // First a release whose migration fails: update.sh stops with migrate's status and restarts nothing. Then a
        // good one: migrated, the backend image's services recreated, and operators still served through nginx,
        // which must find the recreated backends at their new addresses.
        let compose = try ComposeProject.read(from: stack.root)
        let backendImage = "localhost/stam-replacer-backend:latest"
        let builtImage = try LocalStackRun.podman(["image", "inspect", "--format", "{{.Id}}", backendImage])
        defer { _ = try? LocalStackRun.podman(["tag", builtImage, backendImage]) }
        func release(_ name: String, migration sql: String) throws {
            let context = "\(stack.root)/release-\(name)"
            try FileManager.default.createDirectory(atPath: "\(context)/migrations", withIntermediateDirectories: true)
            let committed = "\(StamBinary.projectRoot)/migrations"
            var manifest = try String(contentsOfFile: "\(committed)/manifest.sha256", encoding: .utf8)
            for file in try FileManager.default.contentsOfDirectory(atPath: committed) where file.hasSuffix(".sql") {
                try FileManager.default.copyItem(atPath: "\(committed)/\(file)", toPath: "\(context)/migrations/\(file)")
            }
            let number = manifest.split(separator: "\n").count + 1
            let file = "\(String(format: "%04d", number))_update_\(name).sql"
            try sql.write(toFile: "\(context)/migrations/\(file)", atomically: true, encoding: .utf8)
            let checksum = try LocalProcess.run("/usr/bin/sha256sum", ["\(context)/migrations/\(file)"]).split(separator: " ")[0]
            manifest += "\(checksum)  \(file)\n"
            try manifest.write(toFile: "\(context)/migrations/manifest.sha256", atomically: true, encoding: .utf8)
            try "FROM \(builtImage)\nCOPY migrations/ /usr/share/stam/migrations/\n"
                .write(toFile: "\(context)/Dockerfile", atomically: true, encoding: .utf8)
            try LocalStackRun.podman(["build", "-q", "-t", backendImage, context])
        }
        func update() throws -> (Int32, String) {
            var environment = ProcessInfo.processInfo.environment.merging(compose.variables) { $1 }
            environment["COMPOSE_PROJECT_NAME"] = compose.name
            environment["DOCKER_HOST"] = ContainerEngine.dockerHost
            environment["STAM_SKIP_PULL"] = "1"  // the registry is this machine's image store
            // As DEPLOYMENT.md has the admin run it: `sh deploy/generated/update.sh` (the generated file is not executable).
            return try LocalProcess.status("/bin/sh", ["\(compose.directory)/update.sh", "-f", "docker-compose.prod.local.yml"], environment: environment)
        }
        func containerIDs() throws -> String {
            try LocalStackRun.podman(["inspect", "--format", "{{.Id}}"] + ["backend-1", "backend-2", "outbox-relay-1"].map(compose.container))
        }
        let runningBefore = try containerIDs()
        try release("broken", migration: "CREATE TABLE update_broken (id int);\nSELECT 1 / 0;\n")
        let failed = try update()
        #expect(failed.0 != 0, "update.sh went on after a failed migration:\n\(failed.1)")
        #expect(failed.1.contains("division by zero"), "\(failed.1)")
        #expect(try containerIDs() == runningBefore, "a failed migration restarted services")
        try afterRestart.login(summary.adminLogin, password: try stack.adminPassword)

        try release("probe", migration: "CREATE TABLE update_probe (id int PRIMARY KEY);\n")
        let updated = try update()
        #expect(updated.0 == 0, "\(updated.1)")
        #expect(try containerIDs() != runningBefore, "update.sh recreated nothing")
        let pgbouncer = try LocalStackRun.currentAddress(of: "pgbouncer", root: stack.root)
        #expect(try LocalProcess.run("/usr/bin/psql", ["host=\(pgbouncer) port=6432 dbname=stam user=app connect_timeout=3", "-XAtqc",
                                                       "SELECT to_regclass('update_probe') IS NOT NULL, to_regclass('update_broken') IS NULL"],
                                     environment: ["PGPASSWORD": postgresPassword, "PATH": "/usr/bin:/bin"]).contains("t|t"))
        try await eventually("operators are served through nginx after the update", timeout: .seconds(60)) {
            var client = afterRestart
            try client.login(summary.adminLogin, password: try stack.adminPassword)
            // The demo's panels among them (the DC-09 step added a communicator's panel of its own).
            let listed = Set(try client.call("GET", "/api/panels?limit=100").items.compactMap { ($0["id"] as? String)?.lowercased() })
            return Set(summary.panelIDs.map { $0.lowercased() }).isSubset(of: listed)
        }

        // SIGTERM: docker-compose down. Every container and network of the project is gone, its volumes stay.
        try stack.reloadSummary()
        let pids = stack.summary.processes.values.filter { $0 != 0 }
        stack.stop()
        stopped = true
        #expect(!stack.process.isRunning)
        for pid in pids { #expect(kill(pid_t(pid), 0) != 0, "pid \(pid) still runs") }
        let label = "label=com.docker.compose.project=\(project)"
        #expect(try LocalStackRun.podman(["ps", "-aq", "--filter", label]).isEmpty)
        #expect(try LocalStackRun.podman(["network", "ls", "-q", "--filter", label]).isEmpty)
        #expect(try LocalStackRun.podman(["volume", "ls", "-q", "--filter", label]).contains("\(project)_pg-primary-data"))
    }

    /// What the failover left of panel 2, for the failure message: the records missing (as ranges), the runs of stored
    /// records by fencing token and time of receipt, the panel's connection events, its technical alarms and the
    /// worker's log lines about it. A lost record is the worst bug there is; the CI log is all a failed run leaves.
    private func failoverStory(panel: String, sql: @Sendable (String) throws -> String, worker: String) -> String {
        func query(_ statement: String) -> String { (try? sql(statement)) ?? "(query failed)" }
        let missing = query("""
            SELECT string_agg(CASE WHEN lo = hi THEN lo::text ELSE lo || '-' || hi END, ',' ORDER BY lo) FROM (
              SELECT min(i) lo, max(i) hi FROM (
                SELECT i, i - row_number() OVER (ORDER BY i) grp FROM generate_series(
                  (SELECT min(log_index) FROM panel_events WHERE panel_id = '\(panel)' AND source = 'event_log'),
                  (SELECT max(log_index) FROM panel_events WHERE panel_id = '\(panel)' AND source = 'event_log')) i
                WHERE NOT EXISTS (SELECT 1 FROM panel_events WHERE panel_id = '\(panel)' AND source = 'event_log' AND log_index = i)) gaps
              GROUP BY grp) ranges
            """)
        let runs = query("""
            SELECT string_agg(lo || '-' || hi || ' token ' || fencing_token || ' at ' || to_char(first, 'HH24:MI:SS.MS'), E'\n' ORDER BY lo) FROM (
              SELECT min(log_index) lo, max(log_index) hi, fencing_token, min(received_at) first FROM (
                SELECT log_index, fencing_token, received_at,
                       log_index - row_number() OVER (PARTITION BY fencing_token ORDER BY log_index) grp
                FROM panel_events WHERE panel_id = '\(panel)' AND source = 'event_log') rows
              GROUP BY fencing_token, grp) runs
            """)
        let connection = query("""
            SELECT string_agg(to_char(received_at, 'HH24:MI:SS.MS') || ' token ' || fencing_token || ' ' || description, E'\n' ORDER BY received_at)
            FROM (SELECT * FROM panel_events WHERE panel_id = '\(panel)' AND source = 'connection' ORDER BY received_at DESC LIMIT 20) recent
            """)
        let alarms = query("SELECT string_agg(title, E'\n') FROM alarms WHERE panel_id = '\(panel)' AND kind = 'technical'")
        let log = ((try? LocalStackRun.podman(["logs", "--timestamps", worker])) ?? "").split(separator: "\n")
            .filter { $0.contains(panel) && !$0.contains("debug") }.suffix(40).joined(separator: "\n")
        return "missing log indexes: \(missing)\nstored runs (indexes, token, first received):\n\(runs)\nconnection events:\n\(connection)\n"
            + "technical alarms: \(alarms)\nworker log about the panel:\n\(log)"
    }
}
