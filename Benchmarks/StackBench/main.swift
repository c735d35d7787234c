// StackBench: the production topology end to end (`stam up --env prod`, release binary): from a zone violation
// at a simulated panel to the operator's WebSocket message through nginx (TLS), for each of STACK_BENCH_PANELS
// (200,2000) panels, first with the modules pushing their changes (monitoring mode), then with every panel set to
// `poll` every STACK_BENCH_POLL_MS (500) and the worker's container restarted; then, on the first stack only, the
// PostgreSQL primary killed (-9, its whole container) while a panel produces a record every 250 ms: the time until
// writes succeed through PgBouncer again, and whether every record produced is stored exactly once. Prints markdown
// tables. Needs root (rootful podman).
//
//   StackBench --stam .build/release/stam
//   STACK_BENCH_PANELS (200,2000), STACK_BENCH_POLL_MS (500), STACK_BENCH_SAMPLES (100 violations, one at a time)
import BenchSupport
import Foundation
import HummingbirdWSClient
import DevStack
import Logging
import NIOSSL

func option(_ name: String, environment: String, default value: String) -> String {
    let arguments = CommandLine.arguments
    if let index = arguments.firstIndex(of: name), index + 1 < arguments.count { return arguments[index + 1] }
    return ProcessInfo.processInfo.environment[environment] ?? value
}

struct StackBenchError: Error, CustomStringConvertible {
    var description: String
}

/// The fields of the stack's `stack.json` used here.
struct Stack: Decodable {
    var adminLogin: String
    var adminPasswordFile: String
    var panelIDs: [String]
    var simulatorControlPort: Int
    var simulatorControlHost: String?
    var certificate: String?
    var addresses: [String: String]?
    var composeProject: String?

    func address(_ name: String) throws -> String {
        guard let address = addresses?[name] else { throw StackBenchError(description: "stack.json has no address for \(name)") }
        return address
    }
}

/// Received WebSocket texts, each with when it arrived, and a bounded wait for one that matches.
final class Inbox: @unchecked Sendable {
    struct Received {
        var text: String
        var at: ContinuousClock.Instant
        /// Wall-clock milliseconds since 1970, to set beside PostgreSQL's timestamps (same host, same clock).
        var wallMs: Double
    }

    private let lock = NSLock()
    private var received: [Received] = []
    private var seen = 0

    func append(_ text: String) {
        let entry = Received(text: text, at: .now, wallMs: Date().timeIntervalSince1970 * 1000)
        lock.withLock { received.append(entry) }
    }

    /// The first message after those already consumed that matches (earlier non-matching ones are dropped), with
    /// when it arrived (the wait's own 2 ms polling is not counted).
    @discardableResult
    func next(timeout: Duration, _ matches: ([String: Any]) -> Bool) async throws -> (object: [String: Any], arrival: Received) {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let pending = lock.withLock { () -> [Received] in
                defer { seen = received.count }
                return Array(received[seen...])
            }
            for entry in pending {
                if let object = (try? JSONSerialization.jsonObject(with: Data(entry.text.utf8))) as? [String: Any], matches(object) {
                    return (object, entry)
                }
            }
            try await Task.sleep(for: .milliseconds(2))
        }
        throw StackBenchError(description: "no matching WebSocket message within \(timeout)")
    }
}

/// One zone violation's path: sent on the simulator's control line, its alarm's AlarmRaised read on the WebSocket.
struct Sample {
    var alarmID: String
    /// 1-based, as on the simulator's control line.
    var panel: Int
    var sentWallMs: Double
    var receivedWallMs: Double
    var milliseconds: Double
}

/// Latencies collected inside the WebSocket handler.
final class Samples: @unchecked Sendable {
    private let lock = NSLock()
    private var all: [Sample] = []
    func add(_ sample: Sample) { lock.withLock { all.append(sample) } }
    var values: [Sample] { lock.withLock { all } }
}

/// Where a sample's time went, from the simulator's change timeline (when the zone changed, when the module first
/// told the worker: the push, or the poll's answer) and the AlarmRaised outbox row's two timestamps (PostgreSQL's
/// `now()`: the start of the transaction that wrote it, and of the relay's update after the broker confirmed it);
/// one clock, this host's:
/// - control line -> change: the bench's own way of making the change (a connection to the simulator's control
///   port and its answer), not the station's;
/// - change -> module told the worker: the push (at once) or the wait for the next poll;
/// - told -> worker's transaction: the worker's decode, its event-log walk (round trips to the module), up to the
///   start of its transaction;
/// - worker -> relay: the worker's commit, the relay's wake-up (NOTIFY), read, publish and the broker's confirm;
/// - relay -> WebSocket: from the relay's update to the frame at the client (RabbitMQ to the backend's live feed,
///   the backend, nginx); the backend may already have the message when the relay marks it, so this can be 0 or less.
struct HopSplit {
    var controlToChange: LatencySummary
    var changeToTold: LatencySummary
    var toldToWorker: LatencySummary
    var fromChange: LatencySummary
    var workerToRelay: LatencySummary
    var relayToWebSocket: LatencySummary
    var total: LatencySummary

    /// - Parameter timeline: a panel's change timeline, (made, told) in wall-clock milliseconds.
    init(_ samples: [Sample], sql: (String) throws -> String, timeline: (Int) async throws -> [(made: Double, told: Double?)]) async throws {
        let ids = samples.map { "'\($0.alarmID)'" }.joined(separator: ",")
        var rows: [String: (created: Double, published: Double)] = [:]
        for line in try sql("""
            SELECT aggregate_id, extract(epoch FROM created_at) * 1000, extract(epoch FROM published_at) * 1000
            FROM outbox WHERE event_name = 'AlarmRaised' AND aggregate_id IN (\(ids))
            """).split(separator: "\n") {
            let fields = line.split(separator: "|").map(String.init)
            guard fields.count == 3, let created = Double(fields[1]), let published = Double(fields[2]) else { continue }
            rows[fields[0].lowercased()] = (created, published)
        }
        let split = samples.compactMap { sample in rows[sample.alarmID.lowercased()].map { (sample, $0) } }
        guard split.count == samples.count else {
            throw StackBenchError(description: "\(samples.count - split.count) of the samples' AlarmRaised outbox rows were not found or not published")
        }
        // The sample's change: the first the panel made after the control line was written to.
        var changes: [(made: Double, told: Double)] = []
        for sample in samples {
            let made = try await timeline(sample.panel).filter { $0.made >= sample.sentWallMs }.min { $0.made < $1.made }
            guard let made, let told = made.told else {
                throw StackBenchError(description: "panel \(sample.panel): no change after \(sample.sentWallMs) that the module told the worker of")
            }
            changes.append((made.made, told))
        }
        controlToChange = LatencySummary(zip(samples, changes).map { $1.made - $0.sentWallMs })
        changeToTold = LatencySummary(changes.map { $0.told - $0.made })
        toldToWorker = LatencySummary(zip(split, changes).map { $0.1.created - $1.told })
        fromChange = LatencySummary(zip(samples, changes).map { $0.receivedWallMs - $1.made })
        workerToRelay = LatencySummary(split.map { $1.published - $1.created })
        relayToWebSocket = LatencySummary(split.map { $0.receivedWallMs - $1.published })
        total = LatencySummary(samples.map(\.milliseconds))
    }

    func rows(_ label: String) -> String {
        func ms(_ value: Double) -> String { String(format: "%.0f", value) }
        return [("control line -> change at the panel (the bench's)", controlToChange),
                ("change -> module told the worker (push, or poll answer)", changeToTold),
                ("told -> worker's transaction (decode, event-log walk)", toldToWorker),
                ("worker's transaction -> relay's publish confirmed", workerToRelay),
                ("relay's publish confirmed -> operator's WebSocket", relayToWebSocket),
                ("whole path from the change at the panel", fromChange),
                ("whole path from the control line", total)]
            .map { "| \(label) | \($0.0) | \(ms($0.1.p50)) | \(ms($0.1.p99)) | \(ms($0.1.max)) |" }.joined(separator: "\n")
    }
}

let stam = option("--stam", environment: "STACK_BENCH_STAM", default: ".build/release/stam")
let panelCounts = option("--panels", environment: "STACK_BENCH_PANELS", default: "200,2000").split(separator: ",").compactMap { Int($0) }
let pollMs = Int(option("--poll-ms", environment: "STACK_BENCH_POLL_MS", default: "500")) ?? 500
let samples = Int(option("--samples", environment: "STACK_BENCH_SAMPLES", default: "100")) ?? 100
var logger = Logger(label: "stack-bench")
logger.logLevel = .warning

guard getuid() == 0 else {
    FileHandle.standardError.write(Data("StackBench needs root (the prod stack runs on rootful podman)\n".utf8))
    exit(1)
}
/// One `stam up --env prod` of the bench, in a state directory of its own.
final class BenchStack: @unchecked Sendable {
    let root: String
    let panels: Int
    let up: LocalProcess

    init(panels: Int) throws {
        self.panels = panels
        root = "/tmp/stam-bench/stack-\(getpid())-\(panels)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        up = try LocalProcess(name: "stam up", executable: stam, arguments: [
            "up", "--env", "prod", "--root", root, "--panels", String(panels), "--poll-interval", "\(pollMs)ms", "--demo-interval", "1d",
            "--panel-mode", "push",
        ], logFile: "\(root)/up.out")
    }

    /// Stops `stam up` (docker-compose down) and removes what the engine keeps of the bench's project (its volumes).
    /// The project is read from `compose.json`, written before `docker-compose up`: `stack.json` only exists once the
    /// stack is up, and a stack stopped while it came up kept its containers and its VLAN's subnet.
    func cleanUp() {
        up.stop(signal: SIGTERM, timeout: .seconds(120))
        if let project = try? ComposeProject.read(from: root) {
            ContainerEngine.removeProject(project.name)
        }
        try? FileManager.default.removeItem(atPath: root)
    }
}

func tail(_ file: String) -> String {
    ((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").split(separator: "\n").suffix(20).joined(separator: "\n")
}

/// A stack up, measured pushing and then polling; with `failover`, the primary killed at the end.
func run(_ bench: BenchStack, failover: Bool) async throws -> String {
    let panels = bench.panels
    let root = bench.root
    let up = bench.up
    var stack: Stack?
    let deadline = ContinuousClock.now + .seconds(600)
    while stack == nil {
        guard up.isRunning, ContinuousClock.now < deadline else { throw StackBenchError(description: "stam up did not come up:\n\(tail("\(root)/up.out"))") }
        stack = FileManager.default.contents(atPath: "\(root)/stack.json").flatMap { try? JSONDecoder().decode(Stack.self, from: $0) }
        try await Task.sleep(for: .milliseconds(500))
    }
    let summary = stack!
    let worker = try summary.address("satel-worker")
    func connectedPanels() async throws -> Double? {
        try await HTTPGet.get(port: 9101, host: worker, path: "/metrics", timeout: 5).body.split(separator: "\n")
            .first { $0.hasPrefix("stam_worker_panels_connected ") }.flatMap { Double($0.split(separator: " ")[1]) }
    }
    while try await connectedPanels() != Double(panels) {
        guard ContinuousClock.now < deadline else { throw StackBenchError(description: "the worker did not connect all \(panels) panels") }
        try await Task.sleep(for: .milliseconds(500))
    }
    let control = (host: summary.simulatorControlHost ?? "127.0.0.1", port: summary.simulatorControlPort)

    // Log in through nginx with the stack's certificate, as an operator's browser would.
    let nginx = try summary.address("nginx")
    let password = try String(contentsOfFile: summary.adminPasswordFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    let login = try LocalProcess.run("/usr/bin/curl", [
        "-sf", "--cacert", summary.certificate ?? "", "--resolve", "stam.local:443:\(nginx)", "-H", "Content-Type: application/json",
        "--data", #"{"login":"\#(summary.adminLogin)","password":"\#(password)"}"#, "https://stam.local/api/auth/login",
    ])
    guard let token = ((try? JSONSerialization.jsonObject(with: Data(login.utf8))) as? [String: Any])?["access_token"] as? String else {
        throw StackBenchError(description: "login failed: \(login)")
    }

    var tls = TLSConfiguration.makeClientConfiguration()
    tls.certificateVerification = .none  // BoringSSL takes no self-signed leaf as an anchor; curl verified it above
    let pgbouncer = try summary.address("pgbouncer")
    let databasePassword = try String(contentsOfFile: "\(root)/secrets/postgres_password", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    func sql(_ statement: String) throws -> String {
        try LocalProcess.run("/usr/bin/psql", ["host=\(pgbouncer) port=6432 dbname=stam user=app connect_timeout=2", "-XAtq", "-v", "ON_ERROR_STOP=1",
                                               "-c", statement], environment: ["PGPASSWORD": databasePassword, "PATH": "/usr/bin:/bin"])
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
    guard let project = summary.composeProject else { throw StackBenchError(description: "stack.json names no compose project") }
    func waitForDelivery(_ delivery: String) async throws {
        let bound = ContinuousClock.now + .seconds(600)
        while (try? sql("SELECT count(*) FROM panels WHERE enabled AND connection_state = 'connected' AND state_delivery = '\(delivery)'")) != String(panels) {
            guard ContinuousClock.now < bound else { throw StackBenchError(description: "not every panel connected with state delivery \(delivery)") }
            try await Task.sleep(for: .milliseconds(500))
        }
    }
    try await waitForDelivery("push")
    // Each phase violates a zone of its own: a repeat of one panel, zone and class within 10 minutes joins the open
    // alarm (AlarmRepeated) instead of raising another, so the polled phase on zone 3 again would never see AlarmRaised.
    let pushedSamples = try await measure(summary: summary, nginx: nginx, tls: tls, token: token, control: control, panels: panels, zone: 3)
    // The same stack polled: every panel's mode set to poll, and the worker restarted to read it.
    _ = try sql("UPDATE panels SET mode = 'poll' WHERE enabled")
    // A LocalProcess (output to a file, every other descriptor closed), not Foundation's Process with a pipe: this
    // process's own copy of the pipe's write end stayed open after `podman restart` exited, and the read waited for ever.
    let restart = try LocalProcess(name: "podman restart", executable: "/usr/bin/podman",
                                   arguments: ["restart", "--time", "15", "\(project)_satel-worker_1"], logFile: "\(root)/worker-restart.log")
    let restartBound = ContinuousClock.now + .seconds(120)
    while restart.isRunning {
        guard ContinuousClock.now < restartBound else { throw StackBenchError(description: "podman restart did not end within 120 s") }
        try await Task.sleep(for: .milliseconds(200))
    }
    try await waitForDelivery("poll")
    let polledSamples = try await measure(summary: summary, nginx: nginx, tls: tls, token: token, control: control, panels: panels, zone: 4)
    @Sendable func timeline(_ panel: Int) async throws -> [(made: Double, told: Double?)] {
        let line = try await ControlLine.send("{ panel: \(panel), action: changes }", port: control.port, host: control.host)
        guard line.hasPrefix("changes") else { throw StackBenchError(description: "unexpected answer to 'changes': \(line)") }
        // "changes SEQ:MADE:SERVED ...", microseconds since 1970, "-" for not yet told.
        return line.split(separator: " ").dropFirst().compactMap { item in
            let parts = item.split(separator: ":")
            guard parts.count == 3, let made = Double(parts[1]) else { return nil }
            return (made / 1000, Double(parts[2]).map { $0 / 1000 })
        }
    }
    let pushedSplit = try await HopSplit(pushedSamples, sql: sql, timeline: timeline)
    let polledSplit = try await HopSplit(polledSamples, sql: sql, timeline: timeline)
    let pushed = pushedSplit.total, polled = polledSplit.total
    func ms(_ value: Double) -> String { String(format: "%.0f", value) }
    var report = """
        | zone violation -> operator's WebSocket through nginx (\(panels) panels) | samples | p50 ms | p99 ms | max ms | target |
        |---|---|---|---|---|---|
        | pushed (monitoring mode) | \(pushed.count) | \(ms(pushed.p50)) | \(ms(pushed.p99)) | \(ms(pushed.max)) | p99 < 150 ms at 2000 panels |
        | pushed, from the change at the panel (the control line left out) | \(pushed.count) | \(ms(pushedSplit.fromChange.p50)) | \(ms(pushedSplit.fromChange.p99)) | \(ms(pushedSplit.fromChange.max)) | |
        | polled every \(pollMs) ms, the poll wait included | \(polled.count) | \(ms(polled.p50)) | \(ms(polled.p99)) | \(ms(polled.max)) | p99 < 800 ms |

        Push / poll p99: \(String(format: "%.2f", pushed.p99 / max(polled.p99, 0.001))).

        | \(panels) panels | hop | p50 ms | p99 ms | max ms |
        |---|---|---|---|---|
        \(pushedSplit.rows("pushed"))
        \(polledSplit.rows("polled"))

        """
    guard failover else { return report }
    report += try await failoverReport(summary: summary, panels: panels, root: root, control: control, project: project, sql: sql)
    return report
}

/// Zone violations one at a time, each timed from the control line to the AlarmRaised message on the operator's WebSocket.
func measure(summary: Stack, nginx: String, tls: TLSConfiguration, token: String, control: (host: String, port: Int), panels: Int,
             zone: Int) async throws -> [Sample] {
    let inbox = Inbox()
    let latencies = Samples()
    try await WebSocketClient.connect(url: "wss://\(nginx)/ws", configuration: .init(sniHostname: "stam.local"), tlsConfiguration: tls,
                                      logger: logger) { inbound, outbound, _ in
        try await outbound.write(.text(#"{"type":"auth","token":"\#(token)"}"#))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    if case .text(let text) = message { inbox.append(text) }
                }
            }
            // A failure (no alarm within its bound) closes the socket: the reading task above ends only when it closes, and
            // the group waits for it before the error leaves.
            do {
                try await inbox.next(timeout: .seconds(30)) { $0["type"] as? String == "ready" }
                try await outbound.write(.text(#"{"type":"subscribe","alarms":true}"#))
                try await inbox.next(timeout: .seconds(30)) { $0["type"] as? String == "subscribed" }
                for sample in 0..<samples {
                    let panel = sample % panels + 1
                    let id = summary.panelIDs[panel - 1].lowercased()
                    let started = ContinuousClock.now
                    let sentWallMs = Date().timeIntervalSince1970 * 1000
                    _ = try await ControlLine.send("{ panel: \(panel), action: violate-zone, zone: \(zone) }", port: control.port, host: control.host)
                    let (message, arrival) = try await inbox.next(timeout: .seconds(10)) { message in
                        let payload = message["payload"] as? [String: Any] ?? [:]
                        return message["name"] as? String == "AlarmRaised" && (payload["panel_id"] as? String)?.lowercased() == id
                    }
                    let elapsed = arrival.at - started
                    guard let alarmID = (message["payload"] as? [String: Any])?["alarm_id"] as? String else {
                        throw StackBenchError(description: "AlarmRaised without an alarm_id: \(message)")
                    }
                    latencies.add(Sample(alarmID: alarmID, panel: panel, sentWallMs: sentWallMs, receivedWallMs: arrival.wallMs,
                                         milliseconds: Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15))
                    _ = try await ControlLine.send("{ panel: \(panel), action: restore-zone, zone: \(zone) }", port: control.port, host: control.host)
                    try await Task.sleep(for: .milliseconds(Int.random(in: 100...300)))  // the next one lands anywhere in a poll cycle
                }
            } catch {
                try? await outbound.close(.normalClosure, reason: nil)
                group.cancelAll()
                throw error
            }
            try await outbound.close(.normalClosure, reason: nil)
            group.cancelAll()
        }
    }
    return latencies.values
}

/// Failover: the primary's container killed while the last panel writes a record every 250 ms.
func failoverReport(summary: Stack, panels: Int, root: String, control: (host: String, port: Int), project: String,
                    sql: (String) throws -> String) async throws -> String {
    func records() async throws -> Int {
        let state = try await ControlLine.send("{ panel: \(panels), action: state }", port: control.port, host: control.host)
        guard let count = state.split(separator: " ").first(where: { $0.hasPrefix("events=") }).flatMap({ Int($0.dropFirst(7)) }) else {
            throw StackBenchError(description: "no event count in \(state)")
        }
        return count
    }
    let before = try await records()
    let producer = Task {
        var violated = false
        while !Task.isCancelled {
            violated.toggle()
            _ = try? await ControlLine.send("{ panel: \(panels), action: \(violated ? "violate" : "restore")-zone, zone: 5 }",
                                            port: control.port, host: control.host, timeout: 3)
            try? await Task.sleep(for: .milliseconds(250))
        }
    }
    try await Task.sleep(for: .seconds(3))
    // The engine's kill straight away: `stam stop --kill` (docker-compose kill) spends seconds starting up first.
    let killed = ContinuousClock.now
    try LocalProcess.run("/usr/bin/podman", ["kill", "--signal", "KILL", "\(project)_pg-primary_1"])
    while (try? sql("SELECT txid_current() > 0")) != "t" {
        guard ContinuousClock.now - killed < .seconds(120) else { throw StackBenchError(description: "writes did not come back within 120 s") }
        try await Task.sleep(for: .milliseconds(200))
    }
    let writesBack = ContinuousClock.now - killed
    try await Task.sleep(for: .seconds(5))
    producer.cancel()
    _ = await producer.result
    let produced = try await records()
    let panelID = summary.panelIDs[panels - 1]
    var stored = [Int]()
    let settle = ContinuousClock.now
    while ContinuousClock.now - settle < .seconds(90) {
        stored = (try? sql("""
            SELECT count(*), count(DISTINCT log_index), count(*) FILTER (WHERE log_index BETWEEN \(before) AND \(produced - 1))
            FROM panel_events WHERE panel_id = '\(panelID)' AND source = 'event_log'
            """))?.split(separator: "|").compactMap { Int($0) } ?? []
        if stored.count == 3, stored[2] >= produced - before { break }
        try await Task.sleep(for: .milliseconds(500))
    }
    let during = produced - before
    let kept = stored.count == 3 ? stored[2] : 0
    let duplicates = stored.count == 3 ? stored[0] - stored[1] : -1

    // Each container's start to its first passing health check, as the stack's health scheduler saw it (it checks a
    // starting container every 2 s, so each figure is up to 2 s late).
    let startup = FileManager.default.contents(atPath: "\(root)/startup.json")
        .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Double] } ?? [:]
    let startupRows = startup.sorted { $0.key < $1.key }.map { "| \($0.key) | \(String(format: "%.1f", $0.value)) s |" }.joined(separator: "\n")

    let seconds = Double(writesBack.components.seconds) + Double(writesBack.components.attoseconds) / 1e18
    return """
        | primary killed (-9) while a panel writes 4 records/s | writes back after | records produced | stored | lost | duplicated | target |
        |---|---|---|---|---|---|---|
        | Patroni failover, PgBouncer following | \(String(format: "%.1f", seconds)) s | \(during) | \(kept) | \(during - kept) | \(duplicates) | < 30 s, 0 lost |

        | container (podman, first `stam up` of the bench) | start -> first passing health check |
        |---|---|
        \(startupRows)

        """
}

for (index, panels) in panelCounts.enumerated() {
    let bench: BenchStack
    do {
        bench = try BenchStack(panels: panels)
    } catch {
        FileHandle.standardError.write(Data("StackBench: \(error)\n".utf8))
        exit(1)
    }
    do {
        print(try await run(bench, failover: index == 0))
        bench.cleanUp()
    } catch {
        FileHandle.standardError.write(Data("StackBench: \(error)\n".utf8))
        bench.cleanUp()
        exit(1)
    }
}
