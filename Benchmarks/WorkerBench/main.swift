// WorkerBench: end-to-end latency of the SATEL worker, from a zone change at a simulated panel to the
// committed outbox row, with and without the poll wait, and the worker's CPU per panel. Starts its own
// PostgreSQL 15, Redis and RabbitMQ under /tmp/stam-bench, one `stam simulator` hosting every panel and one
// `stam worker` (both the given release binary), and stops them all by PID at the end. Prints a markdown table.
//
//   WorkerBench --stam .build/release/stam [--migrations PATH]
//   WORKER_BENCH_PANELS (500), WORKER_BENCH_POLL_MS (1000), WORKER_BENCH_SECONDS (30),
//   WORKER_BENCH_RATE (zone changes per second over all panels; default panels / 10, one per panel per 10 s),
//   WORKER_BENCH_SAMPLES=FILE (one CSV line per change), WORKER_BENCH_VERBOSE=1 (progress and PIDs on stderr),
//   WORKER_BENCH_DIAGNOSE=1 (PostgreSQL logs statements over 30 ms and lock waits; the logs are kept)
//
// Build in release mode: swift build -c release --product WorkerBench (and --product stam)
import Foundation
import Logging

func option(_ name: String, environment: String, default value: String) -> String {
    let arguments = CommandLine.arguments
    if let index = arguments.firstIndex(of: name), index + 1 < arguments.count { return arguments[index + 1] }
    return ProcessInfo.processInfo.environment[environment] ?? value
}

/// One socket per panel in the worker, two in the simulator: children inherit the raised limit.
func raiseFileLimit() {
    var limit = rlimit()
    if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}

let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
let panels = max(1, Int(option("--panels", environment: "WORKER_BENCH_PANELS", default: "500")) ?? 500)
let options = WorkerBenchmark.Options(
    panels: panels,
    pollMilliseconds: max(50, Int(option("--poll-ms", environment: "WORKER_BENCH_POLL_MS", default: "1000")) ?? 1000),
    seconds: max(1, Double(option("--seconds", environment: "WORKER_BENCH_SECONDS", default: "30")) ?? 30),
    rate: max(0.1, Double(option("--rate", environment: "WORKER_BENCH_RATE", default: String(max(1, panels / 10)))) ?? 1),
    stamBinary: option("--stam", environment: "WORKER_BENCH_STAM", default: repository.appendingPathComponent(".build/release/stam").path),
    samplesFile: ProcessInfo.processInfo.environment["WORKER_BENCH_SAMPLES"],
    verbose: ProcessInfo.processInfo.environment["WORKER_BENCH_VERBOSE"] == "1")
let diagnose = ProcessInfo.processInfo.environment["WORKER_BENCH_DIAGNOSE"] == "1"
let migrations = option("--migrations", environment: "WORKER_BENCH_MIGRATIONS", default: repository.appendingPathComponent("migrations").path)

raiseFileLimit()
var logger = Logger(label: "worker-bench")
logger.logLevel = .error
let cleanup = RunCleanup()
// Ctrl-C or a kill must not leave servers and children behind.
let signalSources = cleanup.stopAllOnSignals()

func format(_ value: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }

do {
    let stack = try await WorkerBenchStack(migrations: migrations, diagnose: diagnose, logger: logger)
    cleanup.use(stack)
    let result = try await WorkerBenchmark(options: options, stack: stack, cleanup: cleanup, logger: logger).run()
    if let logs = cleanup.stopAll(keepingLogs: diagnose) {
        FileHandle.standardError.write(Data("WorkerBench: logs kept in \(logs)\n".utf8))
    }
    let excluded = result.pollExcluded
    let total = result.total
    let complete = result.committed == result.injected && result.unserved == 0 && result.notWatched == 0
    let met = excluded.count > 0 && excluded.p99 < 50 && complete
    print("## SATEL worker: zone change at the panel -> outbox row committed\n")
    print("One `stam worker` and one `stam simulator` hosting \(options.panels) panels; \(format(options.rate, 1)) zone changes/s spread over "
        + "the panels for \(format(result.windowSeconds, 0)) s; PostgreSQL 15 (fsync on), Redis and RabbitMQ on the same machine. "
        + "Milliseconds. Poll-excluded: from the simulator's answer to the poll that showed the change to the outbox row visible to "
        + "another session (LISTEN + read, WAL flush included); total: from the change itself.\n")
    print("| panels | poll | changes | p50 | p99 | max | p50 total | p99 total | p99 to the commit record | worker CPU s / panel / min | p99 < 50 ms beyond the poll wait |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    let changes = result.committed == result.injected ? "\(result.injected)" : "\(result.committed) of \(result.injected)"
    print("| \(options.panels) | \(options.pollMilliseconds) ms | \(changes) | \(format(excluded.p50)) | \(format(excluded.p99)) "
        + "| \(format(excluded.max)) | \(format(total.p50)) | \(format(total.p99)) | \(format(result.pollExcludedToCommitRecord.p99)) "
        + "| \(format(result.cpuSecondsPerPanelPerMinute, 4)) | \(met ? "yes" : "**no**") |")
    print("\nWorker CPU: \(format(result.workerCPUSeconds / result.windowSeconds * 100)) % of one core over the window; its threads together "
        + "spent \(format(result.workerRunQueueSeconds / result.windowSeconds * 1000, 0)) ms per second runnable, waiting for a CPU. The machine's "
        + "\(ProcessInfo.processInfo.activeProcessorCount) CPUs were \(format(result.machineBusy * 100, 0)) % busy, "
        + "\(format(result.othersBusy * 100, 0)) % by processes other than this run's. "
        + "\"To the commit record\": to `pg_xact_commit_timestamp`, taken before the WAL flush (mean flush in the window: "
        + "\(result.walFlushMilliseconds.map { format($0, 2) + " ms" } ?? "none measured")).")
    if !complete {
        print("\nIncomplete: \(result.injected - result.committed) changes without an outbox row, \(result.unserved) never marked served by "
            + "the simulator, \(result.notWatched) rows not seen by the watcher; those are left out of the figures.")
    }
} catch {
    let logs = cleanup.stopAll(keepingLogs: !cleanup.wasInterrupted)
    if cleanup.wasInterrupted { exit(130) }
    FileHandle.standardError.write(Data("WorkerBench failed: \(error)\n\(logs.map { "logs kept in \($0)\n" } ?? "")".utf8))
    exit(1)
}
_ = signalSources
