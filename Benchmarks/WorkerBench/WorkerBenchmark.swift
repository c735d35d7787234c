import BenchSupport
import Foundation
import Generated
import DevStack
import Logging
import Persistence
import PostgresNIO

/// End-to-end latency of the SATEL worker: a zone changes at a simulated panel, a real `stam worker` polls
/// it, and the outbox row carrying it commits. One `stam simulator` child hosts every panel (one port each);
/// the benchmark changes zones through its control port at a steady rate, spread over the panels.
///
/// Per change, from three clocks of the same machine:
/// - made: the simulator applied the change (its `ChangeTimeline`);
/// - served: the simulator answered the first request that showed it, i.e. the worker's poll that
///   discovered it reached the panel (also the timeline). Measuring from here leaves the poll wait out,
///   which the poll interval sets, not the worker;
/// - committed: when the `ZoneStateChanged` outbox row became visible to another session (`OutboxWatcher`:
///   LISTEN, then a read stamped by `clock_timestamp()`), an upper bound that includes the WAL flush. For
///   comparison also `pg_xact_commit_timestamp(xmin)`, PostgreSQL's own commit record time, a lower bound
///   taken just before the flush (no relay runs, so the row is never updated and `xmin` stays the inserting
///   transaction). `created_at` would not do: it is `now()`, the transaction's start.
struct WorkerBenchmark {
    struct Options {
        var panels: Int
        var pollMilliseconds: Int
        var seconds: Double
        /// Zone changes per second over all panels.
        var rate: Double
        /// Seconds of watching without a change before the window (the cost of watching itself).
        var idleSeconds: Double = 20
        /// `push` or `poll`: every panel row's `mode`.
        var mode: PanelMode = .poll
        var stamBinary: String
        /// A CSV file for one line per change (panel, zone, made, served, commit record, visible; microseconds).
        var samplesFile: String?
        /// Progress on standard error (PIDs, for `perf record -p`).
        var verbose = false
    }

    struct Result {
        var options: Options
        var injected: Int
        /// Changes whose outbox row was found.
        var committed: Int
        /// Of those, changes the simulator never saw served (should be 0).
        var unserved: Int
        /// Of those, rows the watcher did not see become visible (should be 0).
        var notWatched: Int
        var pollExcluded: LatencySummary
        var total: LatencySummary
        /// Poll-excluded up to the commit record's timestamp (before the WAL flush).
        var pollExcludedToCommitRecord: LatencySummary
        var windowSeconds: Double
        var workerCPUSeconds: Double
        /// Seconds the worker's threads were ready to run but waited for a CPU, over the window.
        var workerRunQueueSeconds: Double
        /// Share of the machine's CPU time that was busy over the window, all processes.
        var machineBusy: Double
        /// Share of the machine's CPU time used by processes that are not this run's (other work on a shared
        /// machine); the figures only describe the worker when this is near 0.
        var othersBusy: Double
        var walFlushMilliseconds: Double?
        /// The worker's resident memory at the end of the window.
        var workerResidentBytes: Double?
        /// Worker CPU seconds over the idle window (no change at any panel), and that window's length.
        var idleCPUSeconds: Double = 0
        var idleWindowSeconds: Double = 0

        var idleCPUSecondsPerPanelPerMinute: Double {
            idleWindowSeconds > 0 ? idleCPUSeconds / idleWindowSeconds * 60 / Double(options.panels) : 0
        }

        var cpuSecondsPerPanelPerMinute: Double {
            workerCPUSeconds / windowSeconds * 60 / Double(options.panels)
        }
    }

    /// One zone change the benchmark asked for.
    struct Injection {
        var panel: Int
        var zone: Int
        var violated: Bool
        /// The panel's `ChangeTimeline` sequence number of this change.
        var sequence: Int
    }

    static let zonesPerPanel = 32
    static let workerID = "bench"

    let options: Options
    let stack: WorkerBenchStack
    let cleanup: RunCleanup
    let logger: Logger

    func run() async throws -> Result {
        let fleet = try await SimulatorFleet.launch(panels: options.panels, name: "stam simulator", stack: stack,
                                                    stamBinary: options.stamBinary, cleanup: cleanup, connect: connectControl)
        defer { Task { await fleet.close() } }
        let panelIDs = try await registerPanels(ports: fleet.ports)

        let metricsPort = try FreePort.find()
        let worker = try stack.launch(
            name: "stam worker", executable: options.stamBinary,
            arguments: ["worker", "--worker-id", Self.workerID, "--metrics-host", "127.0.0.1", "--metrics-port", String(metricsPort)],
            environment: stack.childEnvironment)
        cleanup.add(worker)
        progress("simulator PIDs \(fleet.pids), worker PID \(worker.pid) (metrics on port \(metricsPort)); waiting for \(options.panels) panels to connect")
        let connection = try await stack.connect(logger)
        defer { Task { try? await connection.close() } }
        try await waitUntilConnected(connection, worker: worker)
        // Let the first transactions of every panel (connected, event-log baseline) settle.
        try await Task.sleep(for: .milliseconds(2 * options.pollMilliseconds + 1000))

        let watcher = OutboxWatcher(logger: logger)
        let listener = try await stack.connect(logger)
        let reader = try await stack.connect(logger)
        defer { Task { try? await listener.close(); try? await reader.close() } }
        let watching = Task { try await watcher.run(listener: listener, reader: reader) }
        defer { watching.cancel() }
        // LISTEN is in place before the first change.
        try await Task.sleep(for: .milliseconds(500))

        // Watching alone: no change anywhere for a while.
        let idleCPUBefore = try cpu(of: worker)
        let idleStarted = ContinuousClock.now
        try await Task.sleep(for: .milliseconds(Int64(options.idleSeconds * 1000)))
        let idleCPUSeconds = try cpu(of: worker) - idleCPUBefore
        let idleWindowSeconds = Self.seconds(ContinuousClock.now - idleStarted)

        let seqBefore = try await int(connection, "SELECT coalesce(max(seq), 0)::int FROM outbox")
        let walBefore = try await walSync(connection)
        let cpuBefore = try cpu(of: worker)
        let waitBefore = ProcessCPU.runQueueWaitSeconds(pid: worker.pid)
        let machineBefore = ProcessCPU.machine()
        let ours = { ProcessCPU.seconds(of: stack.pids + fleet.pids + [worker.pid, getpid()], server: stack.postgres.process?.pid ?? 0) }
        let oursBefore = ours()
        let started = ContinuousClock.now
        progress("window of \(options.seconds) s started")
        let injections = try await inject(fleet, until: started + .milliseconds(Int64(options.seconds * 1000)))
        let windowSeconds = Self.seconds(ContinuousClock.now - started)
        let workerCPUSeconds = try cpu(of: worker) - cpuBefore
        let workerRunQueueSeconds = ProcessCPU.runQueueWaitSeconds(pid: worker.pid) - waitBefore
        let oursAfter = ours()
        let machineAfter = ProcessCPU.machine()
        let machineTotal = max(1, machineAfter.total - machineBefore.total)
        let machineBusy = (machineAfter.busy - machineBefore.busy) / machineTotal
        let othersBusy = max(0, machineBusy - (oursAfter - oursBefore) / machineTotal)
        let walAfter = try await walSync(connection)
        let resident = ProcessCPU.residentBytes(pid: worker.pid)

        try await waitForRows(injections.count, after: seqBefore, connection, worker: worker)
        try await Task.sleep(for: .milliseconds(200))
        watching.cancel()
        _ = await watching.result
        let visibleAt = watcher.visibleAt
        let timelines = try await self.timelines(fleet)
        let rows = try await committedRows(connection, panelIDs: panelIDs)
        let matched = Self.match(injections, timelines: timelines, rows: rows, visibleAt: visibleAt)
        if let file = options.samplesFile { try matched.samples.write(toFile: file, atomically: true, encoding: .utf8) }
        let syncs = walAfter.count - walBefore.count
        return Result(
            options: options, injected: injections.count, committed: matched.committed, unserved: matched.unserved,
            notWatched: matched.notWatched, pollExcluded: LatencySummary(matched.excluded), total: LatencySummary(matched.total),
            pollExcludedToCommitRecord: LatencySummary(matched.toCommitRecord), windowSeconds: windowSeconds,
            workerCPUSeconds: workerCPUSeconds, workerRunQueueSeconds: workerRunQueueSeconds, machineBusy: machineBusy,
            othersBusy: othersBusy,
            walFlushMilliseconds: syncs > 0 ? (walAfter.milliseconds - walBefore.milliseconds) / Double(syncs) : nil,
            workerResidentBytes: resident, idleCPUSeconds: idleCPUSeconds, idleWindowSeconds: idleWindowSeconds)
    }

    /// After a run: its simulator and worker stopped, its panels deleted (the next run's simulator may get the same
    /// ports, and `(host, port)` is unique).
    static func finish(_ result: Result, cleanup: RunCleanup, stack: WorkerBenchStack, logger: Logger) async throws {
        cleanup.stopChildren()
        let connection = try await stack.connect(logger)
        defer { Task { try? await connection.close() } }
        try await connection.query("DELETE FROM panels", logger: logger)
    }

    // MARK: Matching

    /// Latencies in milliseconds, and what could not be matched.
    private struct Matched {
        var excluded: [Double] = []
        var total: [Double] = []
        var toCommitRecord: [Double] = []
        var committed = 0
        var unserved = 0
        var notWatched = 0
        var samples = "panel,zone,made_us,served_us,commit_record_us,visible_us\n"
    }

    /// Pairs each change with its outbox row: per panel and zone, the n-th change with the n-th row in
    /// commit order (changes alternate violated/normal, so a row of the wrong state means one went missing),
    /// and with the simulator's timeline entry by sequence number.
    private static func match(_ injections: [Injection], timelines: [[Int: TimelineEntry]], rows: [CommittedRow],
                              visibleAt: [Int64: Int64]) -> Matched {
        var queues: [PanelZone: [CommittedRow]] = [:]
        for row in rows { queues[PanelZone(panel: row.panel, zone: row.zone), default: []].append(row) }
        var next: [PanelZone: Int] = [:]
        var result = Matched()
        for injection in injections {
            let key = PanelZone(panel: injection.panel, zone: injection.zone)
            let position = next[key, default: 0]
            guard let queue = queues[key], position < queue.count, queue[position].violated == injection.violated else { continue }
            next[key] = position + 1
            result.committed += 1
            let row = queue[position]
            guard let entry = timelines[injection.panel][injection.sequence], let served = entry.servedAt else {
                result.unserved += 1
                continue
            }
            result.toCommitRecord.append(Double(row.committedAt - served) / 1000)
            result.samples += "\(injection.panel + 1),\(injection.zone),\(entry.madeAt),\(served),\(row.committedAt),\(visibleAt[row.seq].map(String.init) ?? "")\n"
            guard let visible = visibleAt[row.seq] else {
                result.notWatched += 1
                continue
            }
            result.total.append(Double(visible - entry.madeAt) / 1000)
            result.excluded.append(Double(visible - served) / 1000)
        }
        return result
    }

    // MARK: Setting up

    /// The control port opens once every panel port is bound (the simulator binds them first).
    func connectControl(port: Int, simulator: LocalProcess) async throws -> SimulatorControl {
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            guard simulator.isRunning else {
                throw WorkerBenchError("stam simulator exited during start-up (see stam-simulator.log)")
            }
            if let control = try? await SimulatorControl(port: port) { return control }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw WorkerBenchError("stam simulator did not open its control port within 120 s")
    }

    /// One site and a panel row per simulated module (panel i on `ports[i]`) in the run's `mode`, polled (when it
    /// does) every `pollMilliseconds` through the rows' own `poll_interval_ms`, as in production.
    func registerPanels(ports: [Int]) async throws -> [UUID] {
        let secrets = try SecretBox(keyFile: "\(stack.secretsDirectory)/encryption_key")
        let client = PostgresClient(configuration: stack.database.clientConfiguration, backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            let repositories = Repositories(context: DatabaseContext(client: client, secrets: secrets, logger: logger))
            let site = try await repositories.sites.insert(Site(code: "BENCH-\(UUID().uuidString.prefix(8))", name: "Worker benchmark"))
            var ids: [UUID] = []
            for index in 0..<options.panels {
                let panel = try await repositories.panels.insert(Panel(
                    siteId: site.id, name: "Bench panel \(index + 1)", host: "127.0.0.1", port: ports[index],
                    pollIntervalMs: options.pollMilliseconds, mode: options.mode))
                ids.append(panel.id)
            }
            return ids
        }
    }

    private func waitUntilConnected(_ connection: PostgresConnection, worker: LocalProcess) async throws {
        let bound = Duration.seconds(max(120, options.panels / 4))
        let deadline = ContinuousClock.now + bound
        var connected = 0
        while ContinuousClock.now < deadline {
            try alive(worker)
            connected = try await int(connection, """
                SELECT count(*)::int FROM panels WHERE enabled AND connection_state = 'connected' AND owner_worker = '\(Self.workerID)'
                """)
            if connected == options.panels { return }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw WorkerBenchError("only \(connected) of \(options.panels) panels owned and connected after \(bound)")
    }

    // MARK: The window

    /// Changes zones at `rate` per second until `end`, round-robin over the panels in a shuffled order, each
    /// change on the panel's next zone (violated if it was normal, restored if violated). The schedule is
    /// absolute, so a slow answer delays one change, not the rate.
    private func inject(_ fleet: SimulatorFleet, until end: ContinuousClock.Instant) async throws -> [Injection] {
        let order = Array(0..<options.panels).shuffled()
        var changesPerPanel = [Int](repeating: 0, count: options.panels)
        var violated = Set<PanelZone>()
        var injections: [Injection] = []
        let started = ContinuousClock.now
        let interval = 1.0 / options.rate
        while true {
            let due = started + .milliseconds(Int64(Double(injections.count) * interval * 1000))
            guard due < end else { break }
            if due > ContinuousClock.now { try await Task.sleep(until: due) }
            let panel = order[injections.count % options.panels]
            let zone = changesPerPanel[panel] % Self.zonesPerPanel + 1
            let key = PanelZone(panel: panel, zone: zone)
            let violate = !violated.contains(key)
            let reply = try await fleet.send(panel: panel) { "{ panel: \($0), action: \(violate ? "violate-zone" : "restore-zone"), zone: \(zone) }" }
            guard reply == "ok" else { throw WorkerBenchError("the simulator refused a change: \(reply)") }
            if violate { violated.insert(key) } else { violated.remove(key) }
            changesPerPanel[panel] += 1
            injections.append(Injection(panel: panel, zone: zone, violated: violate, sequence: changesPerPanel[panel]))
        }
        if end > ContinuousClock.now { try await Task.sleep(until: end) }
        return injections
    }

    // MARK: Collecting

    /// Waits until every change has its outbox row, or a generous bound (two polls and 15 s) passed: what
    /// is missing then is reported as such.
    private func waitForRows(_ expected: Int, after seq: Int, _ connection: PostgresConnection, worker: LocalProcess) async throws {
        let deadline = ContinuousClock.now + .milliseconds(Int64(2 * options.pollMilliseconds + 15_000))
        while ContinuousClock.now < deadline {
            try alive(worker)
            let sql = "SELECT count(*)::int FROM outbox WHERE event_name = 'ZoneStateChanged' AND seq > \(seq)"
            if try await int(connection, sql) >= expected { return }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Every panel's timeline, by panel index and then sequence number.
    private func timelines(_ fleet: SimulatorFleet) async throws -> [[Int: TimelineEntry]] {
        var result: [[Int: TimelineEntry]] = []
        for panel in 0..<options.panels {
            let line = try await fleet.send(panel: panel) { "{ panel: \($0), action: changes }" }
            guard line.hasPrefix("changes") else { throw WorkerBenchError("unexpected answer to 'changes': \(line)") }
            var entries: [Int: TimelineEntry] = [:]
            for item in line.split(separator: " ").dropFirst() {
                let parts = item.split(separator: ":")
                guard parts.count == 3, let sequence = Int(parts[0]), let made = Int64(parts[1]) else {
                    throw WorkerBenchError("unreadable timeline entry '\(item)'")
                }
                entries[sequence] = TimelineEntry(madeAt: made, servedAt: Int64(parts[2]))
            }
            result.append(entries)
        }
        return result
    }

    private func committedRows(_ connection: PostgresConnection, panelIDs: [UUID]) async throws -> [CommittedRow] {
        var index: [UUID: Int] = [:]
        for (position, id) in panelIDs.enumerated() { index[id] = position }
        let rows = try await connection.query("""
            SELECT seq, aggregate_id, (payload->>'zone_number')::int, payload->>'state',
                   (extract(epoch FROM pg_xact_commit_timestamp(xmin)) * 1000000)::int8
            FROM outbox WHERE event_name = 'ZoneStateChanged'
            ORDER BY 5, seq
            """, logger: logger)
        var result: [CommittedRow] = []
        for try await (seq, panelID, zone, state, committedAt) in rows.decode((Int64, UUID, Int, String, Int64).self) {
            guard let panel = index[panelID] else { continue }
            result.append(CommittedRow(seq: seq, panel: panel, zone: zone, violated: state == ZoneState.violated.rawValue,
                                       committedAt: committedAt))
        }
        return result
    }

    // MARK: Helpers

    private struct PanelZone: Hashable {
        var panel: Int
        var zone: Int
    }

    private struct TimelineEntry {
        var madeAt: Int64
        var servedAt: Int64?
    }

    private struct CommittedRow {
        var seq: Int64
        var panel: Int
        var zone: Int
        var violated: Bool
        /// The commit record's time, microseconds since 1970.
        var committedAt: Int64
    }

    private func progress(_ line: String) {
        if options.verbose { FileHandle.standardError.write(Data("WorkerBench: \(line)\n".utf8)) }
    }

    private func alive(_ worker: LocalProcess) throws {
        guard worker.isRunning else {
            throw WorkerBenchError("stam worker exited (see stam-worker.log)")
        }
    }

    private func cpu(of process: LocalProcess) throws -> Double {
        guard let seconds = ProcessCPU.seconds(pid: process.pid) else {
            throw WorkerBenchError("cannot read /proc/\(process.pid)/stat")
        }
        return seconds
    }

    /// WAL flushes so far and the milliseconds they took (`pg_stat_wal`, with `track_wal_io_timing`).
    private func walSync(_ connection: PostgresConnection) async throws -> (count: Int, milliseconds: Double) {
        let rows = try await connection.query("SELECT wal_sync::int8, wal_sync_time::float8 FROM pg_stat_wal", logger: logger)
        var result = (count: 0, milliseconds: 0.0)
        for try await (count, milliseconds) in rows.decode((Int64, Double).self) { result = (Int(count), milliseconds) }
        return result
    }

    /// The single integer a query answers (the last row's, 0 for none).
    func int(_ connection: PostgresConnection, _ sql: String) async throws -> Int {
        var result = 0
        for try await value in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).decode(Int.self) {
            result = value
        }
        return result
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
