// DC09Bench: the SIA DC-09 receiver (`stam receiver`) under issue 22's load: accounts that each send a link test every
// 10 s plus Contact ID events at a steady rate, over persistent TCP connections (one per account). Per frame, the time
// from writing it to reading its answer, every answer checked; frames/s and events/s answered; the receiver's and
// PostgreSQL's CPU. Two passes on the same receiver, same frames at the same instants: a baseline from accounts the
// station does not know (NAK after the parse: framing, parsing and answering alone), then the station's own accounts
// (ACK after the commit). Afterwards PostgreSQL is checked against the ACKs. Starts its own PostgreSQL 15 and
// `stam receiver` under /tmp/stam-bench and stops both by PID at the end (also on failure or Ctrl-C). Prints a
// markdown table.
//
//   DC09Bench --stam .build/release/stam [--migrations PATH]
//   DC09_BENCH_ACCOUNTS (1000), DC09_BENCH_SECONDS (60, measured), DC09_BENCH_EVENT_RATE (200 events/s over all accounts),
//   DC09_BENCH_WARMUP_SECONDS (10: the same load before the measured window, not measured: the pool opens its connections),
//   DC09_BENCH_VERBOSE=1 (progress on stderr), DC09_BENCH_KEEP_LOGS=1 (keep the receiver's and PostgreSQL's logs),
//   DC09_BENCH_DIAGNOSE=1 (PostgreSQL logs statements over 30 ms and lock waits), DC09_BENCH_SAMPLES=FILE (one CSV line
//   per frame: pass, instant in the window, account, kind, sequence, outcome, milliseconds)
//
// Build in release mode: swift build -c release --product DC09Bench (and --product stam)
import BenchSupport
import DevStack
import Foundation
import Logging

func option(_ name: String, environment: String, default value: String) -> String {
    let arguments = CommandLine.arguments
    if let index = arguments.firstIndex(of: name), index + 1 < arguments.count { return arguments[index + 1] }
    return ProcessInfo.processInfo.environment[environment] ?? value
}

/// Benchmarks/DC09Bench/main.swift -> the repository.
let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let accounts = max(1, Int(option("--accounts", environment: "DC09_BENCH_ACCOUNTS", default: "1000")) ?? 1000)
let seconds = max(1, Double(option("--seconds", environment: "DC09_BENCH_SECONDS", default: "60")) ?? 60)
let warmup = max(0, Double(option("--warmup", environment: "DC09_BENCH_WARMUP_SECONDS", default: "10")) ?? 10)
let eventRate = max(0, Double(option("--event-rate", environment: "DC09_BENCH_EVENT_RATE", default: "200")) ?? 200)
let stam = option("--stam", environment: "DC09_BENCH_STAM", default: repository.appendingPathComponent(".build/release/stam").path)
let migrations = option("--migrations", environment: "DC09_BENCH_MIGRATIONS", default: repository.appendingPathComponent("migrations").path)
let verbose = ProcessInfo.processInfo.environment["DC09_BENCH_VERBOSE"] == "1"
let keepLogs = ProcessInfo.processInfo.environment["DC09_BENCH_KEEP_LOGS"] == "1"
let diagnose = ProcessInfo.processInfo.environment["DC09_BENCH_DIAGNOSE"] == "1"
let samplesFile = ProcessInfo.processInfo.environment["DC09_BENCH_SAMPLES"]

var logger = Logger(label: "dc09-bench")
logger.logLevel = .error
let progress: @Sendable (String) -> Void = { [verbose] line in
    if verbose { FileHandle.standardError.write(Data("DC09Bench: \(line)\n".utf8)) }
}
func format(_ value: Double, _ digits: Int = 1) -> String { value.isFinite ? String(format: "%.\(digits)f", value) : "-" }

let plan = DC09LoadPlan(accounts: accounts, warmup: warmup, seconds: seconds, eventRate: eventRate)
let stack: DC09BenchStack
do {
    stack = try await DC09BenchStack(migrations: migrations, diagnose: diagnose, logger: logger)
} catch {
    FileHandle.standardError.write(Data("DC09Bench failed to start PostgreSQL: \(error)\n".utf8))
    exit(1)
}
// Ctrl-C or a kill must not leave PostgreSQL and the receiver behind.
let signalSources = stack.stopOnSignals()

var results: [DC09BenchPass.Result] = []
var checks: [DC09StoreCheck] = []
var logSummaries: [DC09ReceiverLog.Summary] = []
do {
    progress("PostgreSQL on port \(stack.postgres.port) (PID \(stack.postgres.process?.pid ?? 0)); seeding \(accounts) accounts")
    try await stack.seed(accounts: accounts, logger: logger)
    let receiver = try await stack.startReceiver(stam: stam)
    progress("stam receiver PID \(receiver.pid) on port \(stack.receiverPort), metrics on \(stack.metricsPort)")
    let log = DC09ReceiverLog(path: stack.receiverLog)
    var previous = DC09StoreCheck()
    for mode in [DC09BenchPass.Mode.baseline, .durable] {
        let mark = log.mark()
        let result = try await DC09BenchPass(mode: mode, plan: plan, stack: stack, receiver: receiver, progress: progress, logger: logger).run()
        // The security log writes after the answers, and a frame given up on may still commit: let both land.
        try await Task.sleep(for: .seconds(2))
        let check = try await DC09StoreCheck.read(stack, logger: logger)
        results.append(result)
        checks.append(check.since(previous))
        previous = check
        logSummaries.append(log.summary(from: mark))
    }
    let kept = try await LoopbackSocket.onOwnThread { [stack, keepLogs] in stack.stop(keepingLogs: keepLogs) }
    if let kept { FileHandle.standardError.write(Data("DC09Bench: logs kept in \(kept)\n".utf8)) }
} catch {
    let kept = try? await LoopbackSocket.onOwnThread { [stack] in stack.stop(keepingLogs: !stack.wasInterrupted) }
    if stack.wasInterrupted { exit(130) }
    FileHandle.standardError.write(Data("DC09Bench failed: \(error)\n\(kept.flatMap { $0 }.map { "logs kept in \($0)\n" } ?? "")".utf8))
    exit(1)
}

/// The busiest processes outside the run, as ` (busiest still running: name 0.40 cores, ...)`; processes that came and
/// went (a compiler's jobs, a test's children) are only in the share.
func others(_ result: DC09BenchPass.Result) -> String {
    let busy = result.busiestOthers.filter { $0.cores >= 0.01 }
    return busy.isEmpty ? "" : " (busiest still running: " + busy.map { "\($0.name) \(format($0.cores, 2)) cores" }.joined(separator: ", ") + ")"
}

if let samplesFile {
    var lines = "pass,offset_s,account,kind,sequence,outcome,ms\n"
    for result in results {
        for (index, frame) in plan.frames.enumerated() {
            let kind = switch frame.kind {
            case .linkTest: "link_test"
            case .burglary: "burglary"
            case .openClose(let opening, _): opening ? "opening" : "closing"
            }
            let (outcome, milliseconds): (String, Double?) = switch result.outcomes[index] {
            case .answered(let milliseconds): ("answered", milliseconds)
            case .wrong(let milliseconds, _): ("wrong", milliseconds)
            case .connectionClosed: ("closed", nil)
            case .notSent: ("not_sent", nil)
            case nil: ("no_answer", nil)
            }
            lines += "\(result.mode.rawValue),\(format(frame.offset, 3)),\(frame.account),\(kind),\(frame.sequence),\(outcome),"
                + "\(milliseconds.map { format($0, 3) } ?? "")\n"
        }
    }
    try? lines.write(toFile: samplesFile, atomically: true, encoding: .utf8)
}

print("## SIA DC-09 receiver: frame written -> answer read\n")
print("One `stam receiver` (release, default settings), PostgreSQL 15 (fsync on) and this client on the same "
    + "\(ProcessInfo.processInfo.activeProcessorCount)-core machine. \(accounts) accounts on one TCP connection each (opened before the window), "
    + "each sending a NULL link test every \(format(plan.linkTestPeriod, 0)) s (staggered evenly) plus \(format(eventRate, 0)) Contact ID events/s "
    + "spread over the accounts (half burglaries `1130`, which raise alarms; half openings and closings `1401`/`3401`), for \(format(warmup, 0)) s "
    + "of warm-up (not measured: the receiver's pool opens its connections) and \(format(seconds, 0)) s measured: \(plan.measuredFrames.count) "
    + "measured frames (\(plan.linkTests) link tests, \(plan.events) events) per pass, the same frames at the same instants in both passes. "
    + "Baseline: the accounts are not the station's (NAK after the parse, nothing stored); durable: the station's accounts (ACK after the commit). "
    + "Milliseconds from writing the frame to reading its answer, every answer checked (ACK with the frame's sequence, or NAK). Lost: no expected "
    + "answer within \(format(DC09BenchPass.answerTimeout, 0)) s, over the whole pass (warm-up included). Rates and cores over the measured window "
    + "plus the wait for the last answers.\n")
print("| pass | measured frames | answered as expected | lost | frames/s answered | events/s answered | p50 | p99 | max | receiver cores "
    + "| receiver ms/frame | PostgreSQL cores | PostgreSQL ms/frame | receiver cores per 1,000 accounts |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for result in results {
    let latencies = result.latencies
    print("| \(result.mode.rawValue) | \(plan.measuredFrames.count) | \(result.answeredFrames) | \(result.lost) "
        + "| \(format(Double(result.answeredFrames) / result.elapsedSeconds)) | \(format(Double(result.answeredEvents) / result.elapsedSeconds)) "
        + "| \(format(latencies.p50, 2)) | \(format(latencies.p99, 2)) | \(format(latencies.max, 2)) "
        + "| \(format(result.receiverCores, 3)) | \(format(result.perFrameMilliseconds(result.receiverCPUSeconds), 3)) "
        + "| \(format(result.postgresCores, 3)) | \(format(result.perFrameMilliseconds(result.postgresCPUSeconds), 3)) "
        + "| \(format(result.receiverCoresPerThousandAccounts, 3)) |")
}
print()

if let baseline = results.first(where: { $0.mode == .baseline }), let durable = results.first(where: { $0.mode == .durable }) {
    let receiverPerFrame = durable.perFrameMilliseconds(durable.receiverCPUSeconds) / baseline.perFrameMilliseconds(baseline.receiverCPUSeconds)
    let bothPerFrame = durable.perFrameMilliseconds(durable.receiverCPUSeconds + durable.postgresCPUSeconds)
        / baseline.perFrameMilliseconds(baseline.receiverCPUSeconds + baseline.postgresCPUSeconds)
    print("Durable / baseline, same run: p50 \(format(durable.latencies.p50 / baseline.latencies.p50, 1))x, "
        + "p99 \(format(durable.latencies.p99 / baseline.latencies.p99, 1))x, receiver CPU per frame \(format(receiverPerFrame, 1))x, "
        + "receiver + PostgreSQL CPU per frame \(format(bothPerFrame, 1))x.")
    let p99 = durable.latencies.p99
    print("Target (issue 22): p99 under 50 ms: \(p99 < 50 ? "met" : "**not met**") (\(format(p99, 1)) ms); no frame lost: "
        + "\(durable.lost == 0 ? "met" : "**not met**") (\(durable.lost) lost); \(format(Double(durable.answeredEvents) / durable.elapsedSeconds)) events/s "
        + "ACKed after commit of \(format(eventRate, 0)) offered; \(format(durable.receiverCoresPerThousandAccounts, 3)) receiver cores per 1,000 accounts.")
    print()
}

for (index, result) in results.enumerated() {
    let linkTests = result.latencies(of: { $0 == .linkTest })
    let burglaries = result.latencies(of: { if case .burglary = $0 { true } else { false } })
    let openClose = result.latencies(of: { if case .openClose = $0 { true } else { false } })
    let warm = result.warmupLatencies
    print("\(result.mode.rawValue): warm-up (\(format(warmup, 0)) s, not in the table): p50 \(format(warm.p50, 2)), p99 \(format(warm.p99, 2)), "
        + "max \(format(warm.max, 2)) ms over \(warm.count) frames.")
    print("\(result.mode.rawValue): p50/p99 by frame: link test \(format(linkTests.p50, 2))/\(format(linkTests.p99, 2)) ms, "
        + "opening/closing \(format(openClose.p50, 2))/\(format(openClose.p99, 2)) ms, burglary \(format(burglaries.p50, 2))/\(format(burglaries.p99, 2)) ms; "
        + "receiver threads runnable but waiting for a CPU \(format(result.receiverRunQueueSeconds / result.elapsedSeconds * 1000, 0)) ms per second, "
        + "their context switches \(format(Double(result.receiverSwitches.voluntary) / Double(max(1, result.answeredFrames)), 1)) voluntary and "
        + "\(format(Double(result.receiverSwitches.involuntary) / Double(max(1, result.answeredFrames)), 1)) involuntary per frame; "
        + "PostgreSQL's WAL flushes \(format(result.walFlushesPerFrame, 2)) per frame (warm-up included), "
        + "\(result.walFlushMilliseconds.map { format($0, 2) + " ms" } ?? "none") each on average; "
        + "this client \(format(result.benchCPUSeconds / result.elapsedSeconds, 3)) cores, its schedule at most \(format(result.scheduleLagMilliseconds, 1)) ms late; "
        + "the machine \(format(result.machineBusy * 100, 0)) % busy, \(format(result.othersBusy * 100, 0)) % by processes other than this run's"
        + "\(others(result)).")
    let seconds = result.perSecond
    if let worst = seconds.max(by: { $0.p99 < $1.p99 }) {
        print("\(result.mode.rawValue): second by second, p99 under 50 ms in \(seconds.count { $0.p99 < 50 }) of \(seconds.count) seconds; the worst "
            + "second (+\(worst.second) s) p50 \(format(worst.p50, 1)), p99 \(format(worst.p99, 1)) ms.")
    }
    let answers = result.receiverFrames.filter { $0.value != 0 }.sorted { $0.key < $1.key }.map { "\($0.key) \(format($0.value, 0))" }
    print("\(result.mode.rawValue): lost: \(result.lost) (no answer \(result.noAnswer), answered after \(format(DC09BenchPass.answerTimeout, 0)) s "
        + "\(result.late), connection closed first \(result.closed), not sent \(result.notSent), another answer \(result.wrong.count)"
        + "\(result.wrong.first.map { ": the first \($0)" } ?? "")); answers without a frame \(result.unexpectedAnswers); "
        + "connections reopened \(result.reconnections); the receiver's own count: \(answers.isEmpty ? "none" : answers.joined(separator: ", ")).")
    let summary = logSummaries[index]
    let levels = summary.lines.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    let frequent = summary.frequent.map { "\($0.count) x \($0.level) \"\($0.message)\"" }.joined(separator: "; ")
    print("\(result.mode.rawValue): receiver log lines: \(levels.isEmpty ? "none" : levels)\(frequent.isEmpty ? "" : "; most frequent: \(frequent)").")
    print()
}

print("Checked in PostgreSQL after each pass (every frame of the pass, warm-up included):\n")
for (result, check) in zip(results, checks) {
    func verdict(_ stored: Int, _ expected: Int) -> String {
        if stored == expected { return "ok" }
        // A frame whose answer never came may still have committed (the communicator would send it again: a duplicate).
        let unanswered = result.noAnswer + result.closed + result.late
        return stored > expected && stored <= expected + unanswered ? "within the \(unanswered) frames without a timely answer" : "**MISMATCH**"
    }
    let linkTests = result.count({ $0 == .linkTest }, result.answered)
    let events = result.count(\.isEvent, result.answered)
    let burglaries = result.count({ if case .burglary = $0 { true } else { false } }, result.answered)
    let distinct = result.distinctBurglaries
    switch result.mode {
    case .baseline:
        let nothing = check.messages == 0 && check.panelEvents == 0 && check.alarms == 0
        print("- baseline: dc09_messages \(check.messages), panel_events \(check.panelEvents), alarms \(check.alarms) "
            + "(\(nothing ? "ok: a NAK stores nothing" : "**MISMATCH**: a NAK must store nothing")); the security log's audit rows for "
            + "unknown accounts: \(check.unknownAccountEntries) (at most one per account and address per 10 minutes, off the answer's path).")
    case .durable:
        print("- dc09_messages: \(check.messages) rows; events ACKed \(events): \(verdict(check.messages, events)) (ADM-CID \(check.eventMessages), "
            + "NULL \(check.linkTestMessages): \(check.linkTestMessages == 0 ? "ok, a link test keeps no message" : "**MISMATCH**")); "
            + "content keys stored more than once: \(check.repeatedKeys) (\(check.repeatedKeys == 0 ? "ok: each message stored once" : "**MISMATCH**")).")
        print("- link tests ACKed \(linkTests): accounts with a last signal \(check.signalledAccounts) and paths \(check.paths) of \(accounts) accounts "
            + "(\(check.signalledAccounts == accounts && check.paths == accounts ? "ok" : "**MISMATCH**")).")
        print("- panel_events (source dc09): \(check.panelEvents); events ACKed \(events): \(verdict(check.panelEvents, events)).")
        print("- alarms: \(check.alarms); burglaries ACKed \(burglaries) (on \(distinct) distinct panel zones): \(verdict(check.alarms, distinct)); "
            + "reports on them \(check.alarmReports): \(verdict(check.alarmReports, burglaries)); AlarmRaised outbox rows \(check.alarmRaisedRows): "
            + "\(check.alarmRaisedRows == check.alarms ? "ok" : "**MISMATCH**").")
    }
}
print()
for result in results {
    print("lost (\(result.mode.rawValue)): \(result.lost)")
}
if let durable = results.first(where: { $0.mode == .durable }) {
    print("lost: \(durable.lost)")
}
_ = signalSources
