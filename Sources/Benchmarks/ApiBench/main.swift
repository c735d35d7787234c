// ApiBench: requests per second and latency of an authenticated "list 50 alarms" at 64 connections (wrk),
// `stam backend` (release) beside the same endpoint in FastAPI + asyncpg (Benchmarks/fastapi-baseline, run by
// uvicorn with one worker per core) on the same private PostgreSQL in the same run. Prints a markdown table.
//
//   ApiBench <project root> <stam release binary> [seconds per run, default 10]
import APISupport
import Database
import Foundation
import LocalStack
import Logging
import MigrationSupport
import _CryptoExtras

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
    var p50: String
    var p99: String
    var errors: String
}

func wrk(_ url: String, token: String, duration: Int) throws -> WrkResult {
    let output = try run("/usr/bin/wrk", ["-t2", "-c\(connections)", "-d\(duration)s", "--latency", "-H", "Authorization: Bearer \(token)", url])
    func value(after prefix: String) -> String? {
        output.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(prefix) }
            .map { String($0.trimmingCharacters(in: .whitespaces).dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces) }
    }
    let errors = output.split(separator: "\n").filter { $0.contains("Non-2xx") || $0.contains("Socket errors") }.joined(separator: "; ")
    return WrkResult(requestsPerSecond: Double(value(after: "Requests/sec:") ?? "") ?? 0,
                     p50: value(after: "50%") ?? "?", p99: value(after: "99%") ?? "?", errors: errors.isEmpty ? "none" : errors)
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
        SELECT gen_random_uuid(), '00000000-0000-0000-0000-00000000000a', 'burglary', 'normal', 'new', 'Zone ' || g,
               now() - (g || ' seconds')::interval, 1
        FROM generate_series(1, 2000) g;
        ANALYZE;
        """, database: "stam")

    let tokens = try await TokenService(publicKeyPEM: key.publicKey.pemRepresentation, privateKeyPEM: key.pemRepresentation)
    let token = try await tokens.issue(for: Principal(operatorId: UUID(), login: "bench", role: "operator"))

    let backendPort = try FreePort.find()
    let backendLog = "\(base)/backend.log"
    var environment = ProcessInfo.processInfo.environment
    environment["STAM_SECRETS_DIR"] = secrets
    let backend = try LocalProcess(
        name: "stam backend", executable: stam,
        arguments: ["backend", "--host", "127.0.0.1", "--port", String(backendPort),
                    "--database-url", "postgresql://app@127.0.0.1:\(postgres.port)/stam",
                    "--amqp-url", "amqp://\(rabbit.username)@127.0.0.1:\(rabbit.port)/\(rabbit.virtualHost)",
                    "--redis-url", redis.url, "--instance", "bench"],
        environment: environment, logFile: backendLog)
    processes.append(backend)
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
    let backendURL = "http://127.0.0.1:\(backendPort)/api/alarms?limit=50"
    let fastURL = "http://127.0.0.1:\(fastPort)/api/alarms?limit=50"
    try await waitForHTTP(backendURL, headers: [authorization], process: backend, log: backendLog)
    try await waitForHTTP(fastURL, headers: [authorization], process: fastapi, log: fastLog)
    // Same answer size from both: 50 items.
    for url in [backendURL, fastURL] {
        let body = try run("/usr/bin/curl", ["-s", "-H", authorization, url])
        let items = ((try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["items"] as? [Any])?.count ?? -1
        guard items == 50 else { throw BenchError( "\(url) returned \(items) items, not 50") }
    }

    _ = try wrk(backendURL, token: token, duration: 3)  // warm-up
    // API_BENCH_PROFILE=1: perf samples of the backend during a run, to find where the time goes.
    if ProcessInfo.processInfo.environment["API_BENCH_PROFILE"] == "1" {
        let profile = try LocalProcess(name: "perf", executable: "/usr/bin/perf",
                                       arguments: ["record", "-F", "499", "-g", "-o", "\(base)/perf.data", "-p", String(backend.pid), "--", "sleep", "6"],
                                       logFile: "\(base)/perf.log")
        _ = try wrk(backendURL, token: token, duration: 7)
        while profile.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        print(try run("/usr/bin/perf", ["report", "-i", "\(base)/perf.data", "--stdio", "--no-children", "--percent-limit", "1.5", "-g", "none"]))
    }
    let swift = try wrk(backendURL, token: token, duration: seconds)
    _ = try wrk(fastURL, token: token, duration: 3)
    let python = try wrk(fastURL, token: token, duration: seconds)

    print("Authenticated `GET /api/alarms?limit=50`, \(connections) connections, \(seconds) s per run, wrk -t2, \(cores) cores shared by server, database and wrk")
    print()
    print("| implementation | requests/s | p50 | p99 | errors | vs baseline |")
    print("|---|---:|---:|---:|---|---:|")
    print("| stam backend (Swift, Hummingbird, postgres-nio) | \(String(format: "%.0f", swift.requestsPerSecond)) | \(swift.p50) | \(swift.p99) | \(swift.errors) | \(String(format: "%.2fx", swift.requestsPerSecond / max(python.requestsPerSecond, 1))) |")
    print("| FastAPI + asyncpg (uvicorn, \(cores) workers) | \(String(format: "%.0f", python.requestsPerSecond)) | \(python.p50) | \(python.p99) | \(python.errors) | 1.00x |")
    print()
    print("Targets: at least 3x the baseline's requests/s; p99 under 20 ms.")
} catch {
    print("ApiBench failed: \(error)")
    failed = true
}
stopEverything()
if failed { exit(1) }
