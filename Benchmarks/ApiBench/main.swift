// ApiBench: requests per second and latency of an authenticated "list 50 alarms" at 64 connections (wrk),
// `stam backend` (release) with its list cache (the default) and without it (`--no-list-cache`), beside the same
// endpoint in FastAPI + asyncpg (Benchmarks/fastapi-baseline, run by uvicorn with one worker per core) on the same
// private PostgreSQL in the same run. Prints a markdown table with the CPU each server and PostgreSQL spent per
// request, and a second one with the uncached request's work without HTTP, run in this process: what the backend
// cannot go below with postgres-nio.
//
//   ApiBench <project root> <stam release binary> [seconds per run, default 10]
import APISupport
import BenchSupport
import Database
import Foundation
import Generated
import DevStack
import Logging
import Messaging
import MigrationSupport
import NIOPosix
import Persistence
import PostgresNIO
import _CryptoExtras

// As in `stam backend` (BackendProcess): tasks run on NIO's event loops, so the in-process rows below run the
// backend's way. Before any task starts.
let onNIOExecutor = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

let arguments = CommandLine.arguments
guard arguments.count >= 3 else {
    print("usage: ApiBench <project root> <stam binary> [seconds]")
    exit(2)
}
let root = arguments[1]
let stam = arguments[2]
let seconds = arguments.count > 3 ? Int(arguments[3]) ?? 10 : 10
// API_BENCH_CONNECTIONS changes the load (the issue's figure is at 64).
let connections = ProcessInfo.processInfo.environment["API_BENCH_CONNECTIONS"].flatMap(Int.init) ?? 64
let cores = ProcessInfo.processInfo.activeProcessorCount

func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> String {
    try LocalProcess.run(executable, arguments, environment: environment)
}

/// Polls `url` with curl until it answers 200.
func waitForHTTP(_ url: String, headers: [String] = [], process: LocalProcess, log: String) async throws {
    let deadline = ContinuousClock.now + .seconds(60)
    while ContinuousClock.now < deadline {
        guard process.isRunning else { throw BenchError( "\(process.name) exited; see \(log)") }
        if let code = try? run("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}"] + headers.flatMap { ["-H", $0] } + [url]),
           code == "200" { return }
        try await Task.sleep(for: .milliseconds(200))
    }
    throw BenchError( "\(url) did not answer 200 within 60 s; see \(log)")
}

struct WrkResult {
    var requestsPerSecond: Double
    var requests: Double
    var p50: String
    var p99: String
    var errors: String
    /// CPU milliseconds per request of the server (its process and its children: uvicorn's workers) and of
    /// PostgreSQL (the postmaster and its backends) during the run; `measured` fills them in.
    var serverMilliseconds = Double.nan
    var databaseMilliseconds = Double.nan
}

func wrk(_ url: String, token: String, duration: Int) throws -> WrkResult {
    let output = try run("/usr/bin/wrk", ["-t2", "-c\(connections)", "-d\(duration)s", "--latency", "-H", "Authorization: Bearer \(token)", url])
    func value(after prefix: String) -> String? {
        output.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(prefix) }
            .map { String($0.trimmingCharacters(in: .whitespaces).dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces) }
    }
    let errors = output.split(separator: "\n").filter { $0.contains("Non-2xx") || $0.contains("Socket errors") }.joined(separator: "; ")
    // "  11540 requests in 10.00s, 30.03MB read"
    let requests = output.split(separator: "\n").first { $0.contains(" requests in ") }
        .flatMap { Double($0.trimmingCharacters(in: .whitespaces).split(separator: " ")[0]) } ?? 0
    return WrkResult(requestsPerSecond: Double(value(after: "Requests/sec:") ?? "") ?? 0, requests: requests,
                     p50: value(after: "50%") ?? "?", p99: value(after: "99%") ?? "?", errors: errors.isEmpty ? "none" : errors)
}

/// Runs `step` in `count` concurrent loops for `duration`; the number of steps done.
nonisolated func concurrentLoops(_ count: Int, _ step: @escaping @Sendable () async throws -> Void, duration: Duration) async throws -> Int {
    let deadline = ContinuousClock.now + duration
    return try await withThrowingTaskGroup(of: Int.self) { group in
        for _ in 0..<count {
            group.addTask {
                var done = 0
                while ContinuousClock.now < deadline { try await step(); done += 1 }
                return done
            }
        }
        return try await group.reduce(0, +)
    }
}

let base = "/tmp/stam-bench/api-\(getpid())"
try? FileManager.default.removeItem(atPath: base)
try FileManager.default.createDirectory(atPath: "\(base)/secrets", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
var processes: [LocalProcess] = []
let postgres = PostgresServer(directory: "\(base)/pg", port: try FreePort.find())
let redis = RedisServer(directory: "\(base)/redis", port: try FreePort.find(), password: "bench-redis")
let rabbit = try RabbitMQServer(directory: "\(base)/rmq", port: try FreePort.find(), password: "bench-rabbit")
@MainActor func stopEverything() {
    for process in processes { process.stop(signal: SIGTERM, timeout: .seconds(10)) }
    rabbit.stop()
    redis.stop()
    postgres.stop()
}
var failed = false

do {
    try await postgres.start()
    try await redis.start()
    try await rabbit.start()
    let password = "bench-\(UUID().uuidString.prefix(8))"
    try postgres.ensureRole("app", password: password)
    try postgres.ensureDatabase("stam", owner: "app")
    let secrets = "\(base)/secrets"
    let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
    let files: [String: String] = [
        "postgres_password": password, "redis_password": redis.password, "rabbitmq_password": rabbit.password,
        "encryption_key": Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString(),
        "jwt_private_key": key.pemRepresentation, "jwt_public_key": key.publicKey.pemRepresentation,
    ]
    for (name, text) in files { try text.write(toFile: "\(secrets)/\(name)", atomically: true, encoding: .utf8) }

    let database = try DatabaseConfiguration(url: "postgresql://app@127.0.0.1:\(postgres.port)/stam", passwordFile: "\(secrets)/postgres_password")
    _ = try await MigrationRunner(configuration: database, logger: Logger(label: "bench"))
        .run(directory: try MigrationDirectory(path: "\(root)/migrations"))
    _ = try postgres.superuserSQL("""
        INSERT INTO sites (id, code, name) VALUES ('00000000-0000-0000-0000-00000000000a', 'BENCH', 'Bench site');
        INSERT INTO alarms (id, site_id, kind, priority, state, title, raised_at, version)
        SELECT gen_random_uuid(), '00000000-0000-0000-0000-00000000000a', 'burglary', 'burglary', 'new', 'Zone ' || g,
               now() - (g || ' seconds')::interval, 1
        FROM generate_series(1, 2000) g;
        -- The bench's operator and the session its token names (the backend checks it at most every 2 s).
        INSERT INTO operators (id, login, display_name, role, active, version, created_at)
        VALUES ('00000000-0000-0000-0000-0000000000b1', 'bench', 'Bench', 'operator', true, 1, now());
        INSERT INTO operator_sessions (id, operator_id, role, created_at, expires_at, version)
        VALUES ('00000000-0000-0000-0000-0000000000b2', '00000000-0000-0000-0000-0000000000b1', 'operator', now(), now() + interval '1 day', 1);
        ANALYZE;
        """, database: "stam")

    let tokens = try await TokenService(publicKeyPEM: key.publicKey.pemRepresentation, privateKeyPEM: key.pemRepresentation)
    let token = try await tokens.issue(for: Principal(operatorId: UUID(uuidString: "00000000-0000-0000-0000-0000000000b1")!, login: "bench",
                                                      role: "operator", sessionId: UUID(uuidString: "00000000-0000-0000-0000-0000000000b2")!))

    var environment = ProcessInfo.processInfo.environment
    environment["STAM_SECRETS_DIR"] = secrets
    /// A `stam backend` on its own port; `extra` switches the list cache off for the uncached rows, `urlParameters`
    /// turns prepared statements on (`DatabaseContext.preparesStatements`).
    func startBackend(_ label: String, extra: [String], urlParameters: String = "") throws -> (process: LocalProcess, url: String, metrics: String, log: String) {
        let port = try FreePort.find()
        let metricsPort = try FreePort.find()
        let log = "\(base)/backend-\(label).log"
        let process = try LocalProcess(
            name: "stam backend (\(label))", executable: stam,
            arguments: ["backend", "--host", "127.0.0.1", "--port", String(port), "--metrics-host", "127.0.0.1", "--metrics-port", String(metricsPort),
                        "--database-url", "postgresql://app@127.0.0.1:\(postgres.port)/stam\(urlParameters)",
                        "--amqp-url", "amqp://\(rabbit.username)@127.0.0.1:\(rabbit.port)/\(rabbit.virtualHost)",
                        "--redis-url", redis.url, "--instance", "bench-\(label)"] + extra,
            environment: environment, logFile: log)
        return (process, "http://127.0.0.1:\(port)/api/alarms?limit=50", "http://127.0.0.1:\(metricsPort)/metrics", log)
    }
    let cached = try startBackend("cached", extra: [])
    let uncached = try startBackend("uncached", extra: ["--no-list-cache"])
    let prepared = try startBackend("prepared", extra: ["--no-list-cache"], urlParameters: "?prepared_statements=true")
    processes.append(contentsOf: [cached.process, uncached.process, prepared.process])
    let fastPort = try FreePort.find()
    let fastLog = "\(base)/fastapi.log"
    var pythonEnvironment = ProcessInfo.processInfo.environment
    pythonEnvironment["PYTHONPATH"] = "\(root)/.tools/bench-python:\(root)/Benchmarks/fastapi-baseline"
    pythonEnvironment["DATABASE_DSN"] = "postgresql://app:\(password)@127.0.0.1:\(postgres.port)/stam"
    pythonEnvironment["JWT_PUBLIC_KEY_FILE"] = "\(secrets)/jwt_public_key"
    let fastapi = try LocalProcess(
        name: "uvicorn", executable: "/usr/bin/python3",
        arguments: ["-m", "uvicorn", "app:app", "--host", "127.0.0.1", "--port", String(fastPort), "--workers", String(cores),
                    "--log-level", "warning", "--no-access-log"],
        environment: pythonEnvironment, logFile: fastLog)
    processes.append(fastapi)

    let authorization = "Authorization: Bearer \(token)"
    let fastURL = "http://127.0.0.1:\(fastPort)/api/alarms?limit=50"
    for backend in [cached, uncached, prepared] {
        try await waitForHTTP(backend.url, headers: [authorization], process: backend.process, log: backend.log)
    }
    try await waitForHTTP(fastURL, headers: [authorization], process: fastapi, log: fastLog)
    // Same answer from all four: 50 items.
    for url in [cached.url, uncached.url, prepared.url, fastURL] {
        let body = try run("/usr/bin/curl", ["-s", "-H", authorization, url])
        let items = ((try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["items"] as? [Any])?.count ?? -1
        guard items == 50 else { throw BenchError( "\(url) returned \(items) items, not 50") }
    }
    // The cached backend answers from memory only once its live feed is connected (the cache is off without it).
    let cacheDeadline = ContinuousClock.now + .seconds(30)
    while ContinuousClock.now < cacheDeadline,
          try run("/usr/bin/curl", ["-s", "-o", "/dev/null", "-D", "-", "-H", authorization, cached.url]).lowercased().contains("x-list-cache: hit") == false {
        try await Task.sleep(for: .milliseconds(200))
    }

    // API_BENCH_PROFILE=1: perf samples of the whole machine during an uncached run, to find where the time goes:
    // CPU by process (backend, PostgreSQL, wrk), then the backend's own by library and by symbol.
    if ProcessInfo.processInfo.environment["API_BENCH_PROFILE"] == "1" {
        _ = try wrk(uncached.url, token: token, duration: 3)
        let profile = try LocalProcess(name: "perf", executable: "/usr/bin/perf",
                                       arguments: ["record", "-F", "499", "-a", "-g", "-o", "\(base)/perf.data", "--", "sleep", "6"],
                                       logFile: "\(base)/perf.log")
        _ = try wrk(uncached.url, token: token, duration: 7)
        while profile.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        let report = ["report", "-i", "\(base)/perf.data", "--stdio", "--no-children", "-g", "none"]
        print(try run("/usr/bin/perf", report + ["--sort", "comm", "--percent-limit", "0.5"]))
        print(try run("/usr/bin/perf", report + ["--pid", String(uncached.process.pid), "--sort", "dso", "--percent-limit", "0.5"]))
        print(try run("/usr/bin/perf", report + ["--pid", String(uncached.process.pid), "--sort", "sym", "--percent-limit", "0.4"]))
        print(try run("/usr/bin/perf", report + ["--comm", "postgres", "--sort", "sym", "--percent-limit", "0.4"]))
    }
    var results: [(String, WrkResult)] = []
    /// The list statement a backend's connections ran last (pg_stat_activity keeps an idle connection's last one),
    /// read right after its row: the pool closes idle connections after a minute.
    func lastListStatement(prepared: Bool) throws -> String {
        try postgres.superuserSQL("""
            SELECT query FROM pg_stat_activity WHERE usename = 'app' AND query LIKE 'SELECT %FROM "alarms"%LIMIT%'
            AND query \(prepared ? "" : "NOT ") LIKE '%LIMIT $1' LIMIT 1
            """)
    }
    let postgresPID = postgres.process?.pid ?? 0
    /// A wrk run with the CPU `server` (its process and children) and PostgreSQL spent per request meanwhile.
    func measured(_ url: String, server: pid_t) throws -> WrkResult {
        let serverBefore = ProcessCPU.seconds(of: [], server: server), databaseBefore = ProcessCPU.seconds(of: [], server: postgresPID)
        var result = try wrk(url, token: token, duration: seconds)
        let requests = max(result.requests, 1)
        result.serverMilliseconds = (ProcessCPU.seconds(of: [], server: server) - serverBefore) * 1000 / requests
        result.databaseMilliseconds = (ProcessCPU.seconds(of: [], server: postgresPID) - databaseBefore) * 1000 / requests
        return result
    }
    var statement = "", preparedStatement = ""
    for (label, url, server) in [("stam backend, list cache on (the default)", cached.url, cached.process.pid),
                                 ("stam backend, `--no-list-cache` (every request reads PostgreSQL)", uncached.url, uncached.process.pid),
                                 ("stam backend, `--no-list-cache`, `prepared_statements=true` (the page's statement prepared per connection)",
                                  prepared.url, prepared.process.pid),
                                 ("FastAPI + asyncpg (uvicorn, \(cores) workers)", fastURL, fastapi.pid)] {
        _ = try wrk(url, token: token, duration: 3)  // warm-up
        results.append((label, try measured(url, server: server)))
        if url == uncached.url { statement = try lastListStatement(prepared: false) }
        if url == prepared.url { preparedStatement = try lastListStatement(prepared: true) }
    }
    // A busy station: an alarm event every 100 ms on the events exchange, each dropping the cached list, so
    // this row is mostly misses that share one query among the connections waiting for it.
    let eventsPerSecond = 10
    let publisher = Publisher(configuration: AMQPConfiguration(host: "127.0.0.1", port: rabbit.port, virtualHost: rabbit.virtualHost,
                                                               username: rabbit.username, password: rabbit.password, heartbeatSeconds: 5),
                              topology: StamTopology.messaging, logger: Logger(label: "bench.events"))
    // Detached: the wrk runs below block the main actor this top-level code runs on.
    let churn = Task.detached {
        while !Task.isCancelled {
            let body = #"{"alarm_id":"\#(UUID().uuidString.lowercased())","site_id":"00000000-0000-0000-0000-00000000000a","kind":"burglary","priority":"burglary","title":"Bench","raised_at":"2026-11-29T06:00:00Z"}"#
            do { _ = try await publisher.publish([OutgoingMessage(exchange: "events", routingKey: "alarm.raised", messageId: UUID().uuidString,
                                                              type: "AlarmRaised", timestamp: Date(), body: Array(body.utf8))]) } catch { print("bench event not published: \(error)") }
            try? await Task.sleep(for: .milliseconds(1000 / eventsPerSecond))
        }
    }
    // The backend serves /metrics on its metrics port, apart from the API's.
    let before = try run("/usr/bin/curl", ["-sf", cached.metrics])
    results.insert(("stam backend, list cache on, \(eventsPerSecond) alarm events/s invalidating it", try measured(cached.url, server: cached.process.pid)), at: 1)
    let after = try run("/usr/bin/curl", ["-sf", cached.metrics])
    churn.cancel()
    _ = await churn.result
    await publisher.close()
    /// `stam_list_cache_requests_total{result="miss"}` and the invalidations, from a /metrics text.
    func figure(_ text: String, _ prefix: String) -> Double {
        text.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
    }
    let misses = figure(after, #"stam_list_cache_requests_total{result="miss"}"#) - figure(before, #"stam_list_cache_requests_total{result="miss"}"#)
    let invalidations = figure(after, "stam_list_cache_invalidations_total") - figure(before, "stam_list_cache_invalidations_total")
    let baseline = max(results.first { $0.0.hasPrefix("FastAPI") }?.1.requestsPerSecond ?? 0, 1)

    print("Authenticated `GET /api/alarms?limit=50`, \(connections) connections, \(seconds) s per run, wrk -t2, \(cores) cores shared by server, database and wrk")
    print()
    print("| implementation | requests/s | p50 | p99 | errors | vs baseline | server CPU ms/request | PostgreSQL CPU ms/request |")
    print("|---|---:|---:|---:|---|---:|---:|---:|")
    for (label, result) in results {
        print("| \(label) | \(String(format: "%.0f", result.requestsPerSecond)) | \(result.p50) | \(result.p99) | \(result.errors) | \(String(format: "%.2fx", result.requestsPerSecond / baseline)) | \(String(format: "%.3f", result.serverMilliseconds)) | \(String(format: "%.3f", result.databaseMilliseconds)) |")
    }
    // PostgreSQL's own share: the statement the backend sent (its idle connections keep their last one in
    // pg_stat_activity), run by pgbench as an unnamed statement (what postgres-nio's query() sends) and as a named
    // prepared one (asyncpg; postgres-nio's PostgresPreparedStatement), and that page built as JSON by PostgreSQL.
    // A count of statements (-t), not a duration (-T): pgbench times -T with SIGALRM, which a child of this process
    // inherits blocked, so it never ended.
    /// statements/s of each statement sent unnamed and named.
    var databaseRows: [(statement: String, unnamed: Double, prepared: Double)] = []
    if !statement.isEmpty, !statement.contains("$1") {
        let list = "\(base)/list.sql", json = "\(base)/json.sql"
        try (statement + ";\n").write(toFile: list, atomically: true, encoding: .utf8)
        let page = statement.replacingOccurrences(of: #", ("raised_at")::text AS "__sort_key", false AS "__sort_null", "id"::text AS "__sort_id""#, with: "")
        try "SELECT coalesce(json_agg(page), '[]') FROM (\(page)) page;\n".write(toFile: json, atomically: true, encoding: .utf8)
        func statementsPerSecond(_ file: String, mode: String) throws -> Double {
            let output = try run("/usr/lib/postgresql/15/bin/pgbench", ["-h", postgres.socketDirectory, "-p", String(postgres.port), "-U", "postgres",
                                                                        "-n", "-c", "16", "-j", "2", "-t", "2000", "-M", mode, "-f", file, "stam"])
            return output.split(separator: "\n").first { $0.hasPrefix("tps = ") }.flatMap { Double($0.dropFirst(6).split(separator: " ")[0]) } ?? 0
        }
        for (label, file) in [("the list statement", list), ("the same page as one JSON value (json_agg)", json)] {
            databaseRows.append((label, try statementsPerSecond(file, mode: "extended"), try statementsPerSecond(file, mode: "prepared")))
        }
    }
    // The uncached request's work without HTTP, in this process, at the same concurrency: the pool's query alone,
    // then with its rows decoded into `Alarm`s (the repository's `list`), then with the page written as JSON (all the
    // route's handler does). The backend's CPU per request cannot go below the last row's: the rest is HTTP.
    var floorRows: [(label: String, perSecond: Double, clientMilliseconds: Double, databaseMilliseconds: Double)] = []
    if !statement.isEmpty {
        let client = database.makeClient(backgroundLogger: Logger(label: "bench.pool"))
        let pool = Task { await client.run() }
        let repository = AlarmRepository(context: DatabaseContext(client: client, secrets: nil))
        let query = statement
        let steps: [(String, @Sendable () async throws -> Void)] = [
            ("postgres-nio's pool: the backend's list statement, rows collected", { _ = try await client.query(PostgresQuery(unsafeSQL: query)).collect() }),
            ("+ the rows decoded into 50 `Alarm`s (`AlarmRepository.list`)", { _ = try await repository.list(sort: .raisedAt, limit: 50) }),
            ("+ the page written as JSON (the route's handler without HTTP)", {
                let page = try await repository.list(sort: .raisedAt, limit: 50)
                _ = APIResponse.jsonBody(PageBody(items: page.items, nextCursor: page.nextCursor))
            }),
        ]
        for (label, step) in steps {
            _ = try await concurrentLoops(connections, step, duration: .seconds(2))  // warm-up
            let clientBefore = ProcessCPU.seconds(pid: getpid()) ?? 0, databaseBefore = ProcessCPU.seconds(of: [], server: postgresPID)
            let started = ContinuousClock.now
            let done = Double(max(try await concurrentLoops(connections, step, duration: .seconds(seconds)), 1))
            let elapsed = (ContinuousClock.now - started) / .seconds(1)
            floorRows.append((label, done / elapsed, ((ProcessCPU.seconds(pid: getpid()) ?? 0) - clientBefore) * 1000 / done,
                              (ProcessCPU.seconds(of: [], server: postgresPID) - databaseBefore) * 1000 / done))
        }
        pool.cancel()
        _ = await pool.result
    }
    print()
    print("The uncached request without HTTP, in this process (\(onNIOExecutor ? "tasks on NIO's event loops, as in the backend" : "tasks on Swift's own pool: NIO's executor was not installed")), \(connections) concurrent loops, \(seconds) s each:")
    print()
    print("| work per request | requests/s | this process CPU ms/request | PostgreSQL CPU ms/request |")
    print("|---|---:|---:|---:|")
    for row in floorRows {
        print("| \(row.label) | \(String(format: "%.0f", row.perSecond)) | \(String(format: "%.3f", row.clientMilliseconds)) | \(String(format: "%.3f", row.databaseMilliseconds)) |")
    }
    if floorRows.isEmpty { print("Not measured: no list statement of the backend in pg_stat_activity.") }
    print()
    print("With \(eventsPerSecond) events/s: \(Int(invalidations)) invalidations, \(Int(misses)) database reads for \(Int(results[1].1.requestsPerSecond) * seconds) requests.")
    print("Targets: at least 3x the baseline's requests/s; p99 under 20 ms.")
    // Proof that the prepared row ran the prepared statement (its text ends in `LIMIT $1`), not the unnamed one.
    print("The prepared row's backend last ran: \(preparedStatement.isEmpty ? "no prepared list statement (not prepared?)" : "…" + preparedStatement.suffix(60))")
    print()
    if databaseRows.isEmpty {
        print("PostgreSQL alone: not measured, no parameterless list statement of the backend in pg_stat_activity (\(statement.isEmpty ? "none" : statement))")
    } else {
        print("PostgreSQL alone (pgbench, 16 connections x 2,000 statements, the same 2 cores): the statement the backend sends")
        print()
        print("| statement | protocol | statements/s | vs unnamed |")
        print("|---|---|---:|---:|")
        for row in databaseRows {
            print("| \(row.statement) | unnamed (postgres-nio `query`) | \(String(format: "%.0f", row.unnamed)) | 1.00x |")
            print("| \(row.statement) | named, prepared once per connection | \(String(format: "%.0f", row.prepared)) | \(String(format: "%.2fx", row.prepared / max(row.unnamed, 1))) |")
        }
    }
} catch {
    print("ApiBench failed: \(error)")
    failed = true
}
stopEverything()
if failed { exit(1) }
