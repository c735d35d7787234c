import DevStack
import Foundation
import Generated
import Logging
import PostgresNIO

/// Issue 21 point 4: several `stam worker` processes share many simulated panels through the leases; the one with the
/// most panels is killed with SIGKILL, and the others take its panels over. Measured: each worker's share once the
/// fleet settles, the time from the kill to each orphaned panel connected again by another worker, and (from the
/// simulator, which counts clients per module) whether any module ever had two clients at once.
struct TakeoverBenchmark {
    struct Result {
        var panels: Int
        var workers: Int
        /// Seconds from the workers' start to every panel connected.
        var connectSeconds: Double
        /// Panels per worker once the shares settled (or when the bound ran out).
        var shares: [String: Int]
        var settled: Bool
        var orphaned: Int
        /// Seconds from the kill to each orphaned panel connected by another worker, ascending; nil: not all were.
        var takeoverSeconds: [Double]
        var takenOver: Int
        var clientsLine: String
        var leaseTTLSeconds: Double = 10
    }

    let panels: Int
    let workers: Int
    let stamBinary: String
    let stack: WorkerBenchStack
    let cleanup: RunCleanup
    let logger: Logger

    func run() async throws -> Result {
        var options = WorkerBenchmark.Options(panels: panels, pollMilliseconds: 1000, seconds: 0, rate: 1, stamBinary: stamBinary)
        options.mode = .push
        let bench = WorkerBenchmark(options: options, stack: stack, cleanup: cleanup, logger: logger)
        let fleet = try await SimulatorFleet.launch(panels: panels, name: "stam simulator takeover", stack: stack, stamBinary: stamBinary,
                                                    cleanup: cleanup, connect: bench.connectControl)
        defer { Task { await fleet.close() } }
        let panelIDs = try await bench.registerPanels(ports: fleet.ports)
        let connection = try await stack.connect(logger)
        defer { Task { try? await connection.close() } }

        let started = ContinuousClock.now
        var children: [String: LocalProcess] = [:]
        for number in 1...workers {
            let id = "takeover-\(number)"
            let child = try stack.launch(
                name: "stam worker \(id)", executable: stamBinary,
                arguments: ["worker", "--worker-id", id, "--metrics-host", "127.0.0.1", "--metrics-port", String(try FreePort.find())],
                environment: stack.childEnvironment)
            cleanup.add(child)
            children[id] = child
        }
        // The earlier runs' panels are deleted: the enabled ones are this run's.
        precondition(panelIDs.count == panels)
        let connectedSQL = "SELECT count(*)::int FROM panels WHERE enabled AND connection_state = 'connected'"
        try await wait(bound: .seconds(max(180, panels / 20)), "every panel connected") {
            try await bench.int(connection, connectedSQL) == panels
        }
        let connectSeconds = WorkerBenchmark.seconds(ContinuousClock.now - started)

        // The shares settle as the managers see each other (a worker that started first took more, then gives back).
        var shares: [String: Int] = [:]
        var settled = false
        let settleBound = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < settleBound {
            shares = try await ownerCounts(connection)
            let counts = children.keys.map { shares[$0] ?? 0 }
            if counts.reduce(0, +) == panels, let low = counts.min(), let high = counts.max(), high - low <= max(1, panels / 100),
               try await bench.int(connection, connectedSQL) == panels
            {
                settled = true
                break
            }
            try await Task.sleep(for: .seconds(1))
        }

        let (victim, _) = shares.filter { children[$0.key] != nil }.max { $0.value < $1.value }!
        let orphanIDs = try await strings(connection, "SELECT id::text FROM panels WHERE enabled AND owner_worker = '\(victim)'")
        let orphans = "'" + orphanIDs.joined(separator: "','") + "'"
        let killedAt = ContinuousClock.now
        kill(children[victim]!.pid, SIGKILL)
        children[victim]!.stop(signal: SIGKILL)
        var backAt: [String: Double] = [:]
        let bound = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < bound && backAt.count < orphanIDs.count {
            let back = try await strings(connection, """
                SELECT id::text FROM panels WHERE id IN (\(orphans)) AND owner_worker <> '\(victim)' AND connection_state = 'connected'
                """)
            let now = WorkerBenchmark.seconds(ContinuousClock.now - killedAt)
            for id in back where backAt[id] == nil { backAt[id] = now }
            try await Task.sleep(for: .milliseconds(200))
        }
        let clients = try await fleet.sendToAll("{ panel: 0, action: clients }").joined(separator: "; ")
        shares.removeValue(forKey: "")
        return Result(
            panels: panels, workers: workers, connectSeconds: connectSeconds, shares: shares, settled: settled,
            orphaned: orphanIDs.count, takeoverSeconds: backAt.values.sorted(), takenOver: backAt.count, clientsLine: clients)
    }

    private func ownerCounts(_ connection: PostgresConnection) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        let rows = try await connection.query(PostgresQuery(unsafeSQL: """
            SELECT coalesce(owner_worker, ''), count(*)::int FROM panels WHERE enabled AND connection_state = 'connected' GROUP BY 1
            """), logger: logger)
        for try await (owner, count) in rows.decode((String, Int).self) { counts[owner] = count }
        return counts
    }

    private func wait(bound: Duration, _ what: String, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + bound
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(500))
        }
        throw WorkerBenchError("takeover run: not \(what) within \(bound)")
    }

    private func strings(_ connection: PostgresConnection, _ sql: String) async throws -> [String] {
        var result: [String] = []
        for try await value in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).decode(String.self) { result.append(value) }
        return result
    }
}
