// OutboxBench: events/s through the transactional outbox (1 and 2 relays) against the broker's own ceiling,
// on a private PostgreSQL 15 and RabbitMQ started for the run. Prints a markdown table.
//
//   OutboxBench [--events 20000] [--aggregates 200] [--batch-size 500] [--migrations PATH]
//   (or OUTBOX_BENCH_EVENTS, OUTBOX_BENCH_AGGREGATES, OUTBOX_BENCH_BATCH_SIZE)
//
// Build in release mode: swift build -c release --product OutboxBench
import Foundation
import Logging

func option(_ name: String, environment: String, default value: String) -> String {
    let arguments = CommandLine.arguments
    if let index = arguments.firstIndex(of: name), index + 1 < arguments.count { return arguments[index + 1] }
    return ProcessInfo.processInfo.environment[environment] ?? value
}

/// The committed migrations, found from this file's place in the repository unless given.
/// Benchmarks/OutboxBench/main.swift -> the repository's migrations.
let defaultMigrations = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("migrations").path
let events = Int(option("--events", environment: "OUTBOX_BENCH_EVENTS", default: "20000")) ?? 20_000
let aggregates = Int(option("--aggregates", environment: "OUTBOX_BENCH_AGGREGATES", default: "200")) ?? 200
let batchSize = Int(option("--batch-size", environment: "OUTBOX_BENCH_BATCH_SIZE", default: "500")) ?? 500
let migrations = option("--migrations", environment: "OUTBOX_BENCH_MIGRATIONS", default: defaultMigrations)

var logger = Logger(label: "outbox-bench")
logger.logLevel = .error
let stack = try await BenchStack(migrations: migrations, logger: logger)
do {
    let benchmark = OutboxBenchmark(events: events, aggregates: aggregates, batchSize: batchSize, stack: stack, logger: logger)
    let ceiling = try await benchmark.ceiling()
    let results = [ceiling, try await benchmark.throughOutbox(relays: 1), try await benchmark.throughOutbox(relays: 2)]
    func format(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }
    let ceilingRate = Double(ceiling.events) / ceiling.seconds
    print("## Outbox (\(events) events over \(aggregates) aggregates, batch \(batchSize), PostgreSQL 15 fsync on, RabbitMQ quorum queue)\n")
    print("| scenario | events | seconds | events/s | ratio to ceiling |")
    print("|---|---|---|---|---|")
    for result in results {
        let rate = Double(result.events) / result.seconds
        print("| \(result.scenario) | \(result.events) | \(format(result.seconds, 2)) | \(format(rate, 0)) | \(format(rate / ceilingRate, 2)) |")
    }
} catch {
    stack.stop()
    throw error
}
stack.stop()
