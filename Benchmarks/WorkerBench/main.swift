// WorkerBench: end-to-end latency of the SATEL worker, from a zone change at a simulated panel to the
// committed outbox row, with and without the poll wait, and the worker's CPU per panel. Starts its own
// PostgreSQL 15, Redis and RabbitMQ under /tmp/stam-bench, `stam simulator` processes (5,000 panels each) and one
// `stam worker` (both the given release binary), and stops them all by PID at the end. Prints a markdown table.
//
//   WorkerBench --stam .build/release/stam [--migrations PATH]
//   WORKER_BENCH_PANELS (2000), WORKER_BENCH_MODES (poll,push: one run each on the same panels and load),
//   WORKER_BENCH_SCALE_PANELS (10000: one more run, that many panels pushing at the same rate; 0 for none),
//   WORKER_BENCH_POLL_MS (1000), WORKER_BENCH_SECONDS (30),
//   WORKER_BENCH_RATE (zone changes per second over all panels; default panels / 10, one per panel per 10 s),
//   WORKER_BENCH_SAMPLES=FILE (one CSV line per change), WORKER_BENCH_VERBOSE=1 (progress and PIDs on stderr),
//   WORKER_BENCH_DIAGNOSE=1 (PostgreSQL logs statements over 30 ms and lock waits; the logs are kept)
//
// Build in release mode: swift build -c release --product WorkerBench (and --product stam)
import Foundation
import Generated
import Logging

func option(_ name: String, environment: String, default value: String) -> String {
    let arguments = CommandLine.arguments
    if let index = arguments.firstIndex(of: name), index + 1 < arguments.count { return arguments[index + 1] }
    return ProcessInfo.processInfo.environment[environment] ?? value
}

/// One socket per panel in the worker, two in the simulator (its listener and the worker's connection): 10,000 panels
/// need more than 20,000 descriptors, the hard limit here; root may raise it. Children inherit the limit. (At the old
/// limit the simulator's listeners that hit EMFILE stopped accepting, and their panels never connected.)
func raiseFileLimit() {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
    let wanted = rlim_t(262_144)
    var raised = rlimit(rlim_cur: max(limit.rlim_max, wanted), rlim_max: max(limit.rlim_max, wanted))
    if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) != 0 {
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}

/// Benchmarks/WorkerBench/main.swift -> the repository.
let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
let panels = max(1, Int(option("--panels", environment: "WORKER_BENCH_PANELS", default: "2000")) ?? 2000)
/// The modes compared on the same panels and load, in this order.
let modes: [PanelMode] = option("--modes", environment: "WORKER_BENCH_MODES", default: "poll,push")
    .split(separator: ",").compactMap { PanelMode(rawValue: String($0)) }
/// The scale run: this many panels pushing on one worker at the same change rate (0: none).
let scalePanels = max(0, Int(option("--scale-panels", environment: "WORKER_BENCH_SCALE_PANELS", default: "10000")) ?? 10000)
/// The takeover run: this many panels shared by `takeoverWorkers` workers, the busiest killed (0: none).
let takeoverPanels = max(0, Int(option("--takeover-panels", environment: "WORKER_BENCH_TAKEOVER_PANELS", default: "10000")) ?? 10000)
let takeoverWorkers = max(2, Int(option("--takeover-workers", environment: "WORKER_BENCH_TAKEOVER_WORKERS", default: "3")) ?? 3)
let options = WorkerBenchmark.Options(
    panels: panels,
    pollMilliseconds: max(50, Int(option("--poll-ms", environment: "WORKER_BENCH_POLL_MS", default: "1000")) ?? 1000),
    seconds: max(1, Double(option("--seconds", environment: "WORKER_BENCH_SECONDS", default: "30")) ?? 30),
    rate: max(0.1, Double(option("--rate", environment: "WORKER_BENCH_RATE", default: String(max(1, panels / 10)))) ?? 1),
    idleSeconds: max(0, Double(option("--idle-seconds", environment: "WORKER_BENCH_IDLE_SECONDS", default: "20")) ?? 20),
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
    // The same panels and load with the modules polled, then pushing (monitoring mode); then the scale run: many more
    // panels pushing at the same change rate.
    var runs = modes.map { mode in
        var run = options
        run.mode = mode
        return run
    }
    if scalePanels > 0 {
        var run = options
        run.panels = scalePanels
        run.mode = .push
        runs.append(run)
    }
    var results: [WorkerBenchmark.Result] = []
    for run in runs {
        let result = try await WorkerBenchmark(options: run, stack: stack, cleanup: cleanup, logger: logger).run()
        try await WorkerBenchmark.finish(result, cleanup: cleanup, stack: stack, logger: logger)
        results.append(result)
    }
    var takeover: TakeoverBenchmark.Result?
    if takeoverPanels > 0 {
        takeover = try await TakeoverBenchmark(panels: takeoverPanels, workers: takeoverWorkers, stamBinary: options.stamBinary, stack: stack,
                                               cleanup: cleanup, logger: logger).run()
    }
    if let logs = cleanup.stopAll(keepingLogs: diagnose) {
        FileHandle.standardError.write(Data("WorkerBench: logs kept in \(logs)\n".utf8))
    }
    print("## SATEL worker: zone change at the panel -> outbox row committed\n")
    print("One `stam worker`; the panels on `stam simulator` processes of their own (5,000 panels each: a process may open 20,000 descriptors here); \(format(options.rate, 1)) zone changes/s "
        + "spread over the panels for \(format(options.seconds, 0)) s; PostgreSQL 15 (fsync on), Redis and RabbitMQ on the same machine. "
        + "Poll: every panel's new-data list read every \(options.pollMilliseconds) ms. Push: the modules push their changes (monitoring "
        + "mode), a keepalive every 10 s. Milliseconds. Without the poll wait: from the simulator's answer or push that showed the change "
        + "to the outbox row visible to another session (LISTEN + read, WAL flush included); total: from the change itself.\n")
    print("| panels | mode | changes | p50 | p99 | max | p50 total | p99 total | p99 to the commit record | worker CPU % of a core "
        + "| worker CPU s / panel / min | idle: % of a core | idle: CPU s / panel / min | worker RSS | RSS / panel |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for result in results {
        let excluded = result.pollExcluded
        let total = result.total
        let run = result.options
        let changes = result.committed == result.injected ? "\(result.injected)" : "\(result.committed) of \(result.injected)"
        let mode = run.mode == .push ? "push" : "poll \(run.pollMilliseconds) ms"
        let rss = result.workerResidentBytes.map { format($0 / 1_048_576, 0) + " MiB" } ?? "?"
        let perPanel = result.workerResidentBytes.map { format($0 / Double(run.panels) / 1024, 1) + " KiB" } ?? "?"
        print("| \(run.panels) | \(mode) | \(changes) | \(format(excluded.p50)) | \(format(excluded.p99)) | \(format(excluded.max)) "
            + "| \(format(total.p50)) | \(format(total.p99)) | \(format(result.pollExcludedToCommitRecord.p99)) "
            + "| \(format(result.workerCPUSeconds / result.windowSeconds * 100)) | \(format(result.cpuSecondsPerPanelPerMinute, 4)) "
            + "| \(format(result.idleCPUSeconds / max(result.idleWindowSeconds, 0.001) * 100)) | \(format(result.idleCPUSecondsPerPanelPerMinute, 4)) "
            + "| \(rss) | \(perPanel) |")
    }
    print()
    let poll = results.first { $0.options.mode == .poll && $0.options.panels == options.panels }
    let push = results.first { $0.options.mode == .push && $0.options.panels == options.panels }
    if let poll, let push, poll.cpuSecondsPerPanelPerMinute > 0, poll.idleCPUSecondsPerPanelPerMinute > 0 {
        let ratio = push.cpuSecondsPerPanelPerMinute / poll.cpuSecondsPerPanelPerMinute
        let idleRatio = push.idleCPUSecondsPerPanelPerMinute / poll.idleCPUSecondsPerPanelPerMinute
        print("Push / poll worker CPU at \(options.panels) panels: \(format(idleRatio, 3)) watching without changes (target under 0.333: "
            + "\(idleRatio < 1.0 / 3 ? "met" : "**not met**")), \(format(ratio, 3)) with \(format(options.rate, 0)) changes/s, where each change "
            + "costs the same transaction either way; "
            + "push p99 without a poll wait \(format(push.pollExcluded.p99)) ms (target under 30 ms: \(push.pollExcluded.p99 < 30 ? "met" : "**not met**")); "
            + "push p99 total \(format(push.total.p99)) ms against poll's \(format(poll.total.p99)) ms.")
    }
    if let scale = results.first(where: { $0.options.panels == scalePanels && scalePanels > 0 }) {
        let core = scale.workerCPUSeconds / scale.windowSeconds
        print("\(scalePanels) panels pushing on one worker: \(format(core * 100)) % of one core (target under 100 %: \(core < 1 ? "met" : "**not met**")).")
    }
    for result in results {
        let run = result.options
        print("\n\(run.panels) panels, \(run.mode.rawValue): worker threads runnable but waiting for a CPU "
            + "\(format(result.workerRunQueueSeconds / result.windowSeconds * 1000, 0)) ms per second; the machine's "
            + "\(ProcessInfo.processInfo.activeProcessorCount) CPUs \(format(result.machineBusy * 100, 0)) % busy, "
            + "\(format(result.othersBusy * 100, 0)) % by processes other than this run's; mean WAL flush "
            + "\(result.walFlushMilliseconds.map { format($0, 2) + " ms" } ?? "none measured").")
        if result.committed != result.injected || result.unserved != 0 || result.notWatched != 0 {
            print("Incomplete: \(result.injected - result.committed) changes without an outbox row, \(result.unserved) never marked served by "
                + "the simulator, \(result.notWatched) rows not seen by the watcher; those are left out of the figures.")
        }
    }
    if let takeover {
        print("\n## SATEL workers: sharing panels and taking over after kill -9\n")
        print("\(takeover.workers) `stam worker` processes (lease TTL \(format(takeover.leaseTTLSeconds, 0)) s) and `stam simulator` processes with "
            + "\(takeover.panels) panels pushing. The worker with the most panels is killed with SIGKILL; seconds from the kill to each of its "
            + "panels connected by another worker (the panel row's owner and connection state, read every 200 ms).\n")
        let shares = takeover.shares.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        let times = takeover.takeoverSeconds
        func at(_ q: Double) -> String { times.isEmpty ? "-" : format(times[min(times.count - 1, Int((Double(times.count) * q).rounded(.up)) - 1)]) }
        print("| panels | workers | all connected after | shares (settled: \(takeover.settled ? "yes" : "**no**")) | orphaned | taken over | p50 | p99 | max | within TTL + 5 s | simulator |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        let within = takeover.takenOver == takeover.orphaned && (times.last ?? .infinity) <= takeover.leaseTTLSeconds + 5
        print("| \(takeover.panels) | \(takeover.workers) | \(format(takeover.connectSeconds)) s | \(shares) | \(takeover.orphaned) "
            + "| \(takeover.takenOver) | \(at(0.5)) s | \(at(0.99)) s | \(times.last.map { format($0) } ?? "-") s | \(within ? "yes" : "**no**") "
            + "| \(takeover.clientsLine) |")
    }
} catch {
    let logs = cleanup.stopAll(keepingLogs: !cleanup.wasInterrupted)
    if cleanup.wasInterrupted { exit(130) }
    FileHandle.standardError.write(Data("WorkerBench failed: \(error)\n\(logs.map { "logs kept in \($0)\n" } ?? "")".utf8))
    exit(1)
}
_ = signalSources
