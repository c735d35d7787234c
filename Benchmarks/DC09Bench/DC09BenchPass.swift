import BenchSupport
import DC09
import DevStack
import Foundation
import Logging
import NIOPosix

/// One pass of the load against the running receiver: the plan's frames sent at their instants over fresh connections,
/// every answer checked, and the CPU that the receiver, PostgreSQL and this process used from the first measured frame
/// (after the plan's warm-up) until every frame had its answer (or its 10 s were up).
///
/// - durable: the station's accounts, each frame ACKed after its transaction committed;
/// - baseline: the same frames from accounts the station does not know, NAKed after the parse: framing, parsing and
///   answering without the store. (Not quite without the database: the receiver's security log writes one audit row
///   per unknown account and address per 10 minutes, off the answer's path; the pass reports PostgreSQL's CPU.)
struct DC09BenchPass {
    enum Mode: String, Sendable {
        case baseline
        case durable
    }

    /// Later than this after it was written, an answer counts as lost (the communicator has given up on it).
    static let answerTimeout = 10.0

    struct Result {
        var mode: Mode
        var plan: DC09LoadPlan
        /// Per frame of the plan, warm-up included.
        var outcomes: [DC09BenchRecorder.Outcome?]
        var unexpectedAnswers: Int
        var noiseBytes: Int
        var reconnections: Int
        /// The measured window's start -> the last answer (or the end of the wait for it).
        var elapsedSeconds: Double
        /// The most a frame was handed to its connection after its instant (this process starved of CPU shows here).
        var scheduleLagMilliseconds: Double
        var receiverCPUSeconds: Double
        var postgresCPUSeconds: Double
        var benchCPUSeconds: Double
        var receiverRunQueueSeconds: Double
        /// The receiver's threads' context switches over the window (voluntary, involuntary).
        var receiverSwitches: (voluntary: Int, involuntary: Int)
        var machineBusy: Double
        /// Share of the machine's CPU used by processes that are not this run's (another build, another test).
        var othersBusy: Double
        /// The processes outside this run still running at the end that used the most CPU over the window, in cores.
        var busiestOthers: [(name: String, cores: Double)]
        /// Mean WAL flush over the pass (warm-up included), nil without one.
        var walFlushMilliseconds: Double?
        /// WAL flushes per frame of the pass: below 1, commits shared a flush (group commit).
        var walFlushesPerFrame: Double
        /// The receiver's own `stam_dc09_frames_total` by answer over the pass, warm-up included.
        var receiverFrames: [String: Double]

        private func milliseconds(_ outcome: DC09BenchRecorder.Outcome?) -> Double? {
            if case .answered(let milliseconds) = outcome { return milliseconds }
            return nil
        }

        var measured: Range<Int> { plan.firstMeasured..<plan.frames.count }
        var warmup: Range<Int> { 0..<plan.firstMeasured }

        /// The expected answer within the timeout.
        func answeredInTime(_ index: Int) -> Bool {
            milliseconds(outcomes[index]).map { $0 <= DC09BenchPass.answerTimeout * 1000 } ?? false
        }

        /// The expected answer, whenever it came (for the database check: a late ACK still followed a commit).
        func answered(_ index: Int) -> Bool { milliseconds(outcomes[index]) != nil }

        /// Of the measured window's frames.
        var latencies: LatencySummary { LatencySummary(measured.compactMap { milliseconds(outcomes[$0]) }) }
        var warmupLatencies: LatencySummary { LatencySummary(warmup.compactMap { milliseconds(outcomes[$0]) }) }

        /// Of the measured window's frames of a kind.
        func latencies(of include: (DC09LoadPlan.Kind) -> Bool) -> LatencySummary {
            LatencySummary(measured.filter { include(plan.frames[$0].kind) }.compactMap { milliseconds(outcomes[$0]) })
        }

        /// Frames of the whole pass, warm-up included (all of them reached the store).
        func count(_ include: (DC09LoadPlan.Kind) -> Bool, _ predicate: (Int) -> Bool) -> Int {
            outcomes.indices.count { include(plan.frames[$0].kind) && predicate($0) }
        }

        // What went wrong, over the whole pass, warm-up included.
        var lost: Int { outcomes.indices.count { !answeredInTime($0) } }
        var late: Int { outcomes.indices.count { answered($0) && !answeredInTime($0) } }
        var noAnswer: Int { outcomes.count { $0 == nil } }
        var closed: Int { outcomes.count { $0 == .connectionClosed } }
        var notSent: Int { outcomes.count { $0 == .notSent } }
        var wrong: [String] {
            outcomes.compactMap { outcome -> String? in
                guard case .wrong(_, let detail) = outcome else { return nil }
                return detail
            }
        }

        /// The measured window second by second: (second, p50, p99) of the frames sent in it.
        var perSecond: [(second: Int, p50: Double, p99: Double)] {
            var samples: [Int: [Double]] = [:]
            for index in measured {
                guard let value = milliseconds(outcomes[index]) else { continue }
                samples[Int(plan.frames[index].offset - plan.warmup), default: []].append(value)
            }
            return samples.sorted { $0.key < $1.key }.map { second, values in
                let summary = LatencySummary(values)
                return (second, summary.p50, summary.p99)
            }
        }

        /// Of the measured window: the rates and the CPU per frame.
        var answeredFrames: Int { measured.count(where: answered) }
        var answeredEvents: Int { measured.count { plan.frames[$0].kind.isEvent && answered($0) } }

        /// Distinct (account, zone) of the burglaries ACKed in the whole pass: the alarms the store must have raised.
        var distinctBurglaries: Int {
            var seen = Set<[Int]>()
            for index in outcomes.indices where answered(index) {
                if case .burglary(let zone) = plan.frames[index].kind { seen.insert([plan.frames[index].account, zone]) }
            }
            return seen.count
        }

        var receiverCores: Double { receiverCPUSeconds / elapsedSeconds }
        var postgresCores: Double { postgresCPUSeconds / elapsedSeconds }
        func perFrameMilliseconds(_ seconds: Double) -> Double { seconds * 1000 / Double(max(1, answeredFrames)) }
        /// Receiver cores at this load, per 1,000 accounts.
        var receiverCoresPerThousandAccounts: Double { receiverCores * 1000 / Double(plan.accounts) }
    }

    let mode: Mode
    let plan: DC09LoadPlan
    let stack: DC09BenchStack
    let receiver: LocalProcess
    let progress: @Sendable (String) -> Void
    let logger: Logger

    func run() async throws -> Result {
        let recorder = DC09BenchRecorder(frames: plan.frames.count)
        // One loop thread for a thousand mostly idle connections: it sends and times every frame, and leaves the other
        // core to the receiver and PostgreSQL.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let client = DC09BenchClient(accounts: plan.accounts, port: stack.receiverPort, group: group, recorder: recorder)
        do {
            let result = try await measure(client: client, recorder: recorder)
            await client.closeAll()
            try await group.shutdownGracefully()
            return result
        } catch {
            await client.closeAll()
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private func measure(client: DC09BenchClient, recorder: DC09BenchRecorder) async throws -> Result {
        progress("\(mode.rawValue): opening \(plan.accounts) connections")
        try await client.connectAll()
        try await Task.sleep(for: .seconds(1))
        let known = mode == .durable
        let numbers = (0..<plan.accounts).map { DC09LoadPlan.account($0, known: known) }
        let framesBefore = try await receiverFrames()
        let postgresPID = stack.postgres.process?.pid ?? 0

        progress("\(mode.rawValue): \(plan.frames.count) frames over \(plan.warmup) s of warm-up and \(plan.seconds) s measured")
        // Read before the warm-up: the window's flushes are most of the pass's, and a query at the window's start would
        // delay its first frames.
        let walBefore = try await WALSyncs.read(stack, logger: logger)
        let start = ContinuousClock.now
        var before: UsageSnapshot?
        var lag = Duration.zero
        for (id, frame) in plan.frames.enumerated() {
            let due = start + .seconds(frame.offset)
            try await Task.sleep(until: due, clock: .continuous)
            if id == plan.firstMeasured { before = UsageSnapshot(receiver: receiver.pid, postgres: postgresPID) }
            lag = max(lag, ContinuousClock.now - due)
            if id % 500 == 0, !receiver.isRunning { throw DC09BenchError("stam receiver exited during the \(mode.rawValue) pass (see its log)") }
            let bytes = try DC09MessageBuilder.frame(frame.message(account: numbers[frame.account], at: Date()), key: nil)
            client.send(DC09OutgoingFrame(id: id, bytes: bytes, expected: known ? .ack(sequence: frame.sequence) : .nak), account: frame.account)
        }
        // Every frame answered, or the last one's timeout is up.
        let deadline = ContinuousClock.now + .seconds(Self.answerTimeout) + .milliseconds(200)
        while recorder.settled < plan.frames.count, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let after = UsageSnapshot(receiver: receiver.pid, postgres: postgresPID)
        let walAfter = try await WALSyncs.read(stack, logger: logger)
        let first = before ?? after
        let elapsed = DC09AnswerHandler.milliseconds(after.at - first.at) / 1000
        let machineTotal = max(0.001, after.machine.total - first.machine.total)
        let machineBusy = (after.machine.busy - first.machine.busy) / machineTotal
        let snapshot = recorder.snapshot
        let framesAfter = try await receiverFrames()
        progress("\(mode.rawValue): \(recorder.settled) of \(plan.frames.count) frames settled")
        return Result(
            mode: mode, plan: plan, outcomes: snapshot.outcomes, unexpectedAnswers: snapshot.unexpectedAnswers, noiseBytes: snapshot.noiseBytes,
            reconnections: client.reconnections, elapsedSeconds: elapsed, scheduleLagMilliseconds: DC09AnswerHandler.milliseconds(lag),
            receiverCPUSeconds: after.receiverSeconds - first.receiverSeconds, postgresCPUSeconds: after.postgresSeconds - first.postgresSeconds,
            benchCPUSeconds: after.benchSeconds - first.benchSeconds,
            receiverRunQueueSeconds: after.receiverRunQueueSeconds - first.receiverRunQueueSeconds,
            receiverSwitches: (after.receiverSwitches.voluntary - first.receiverSwitches.voluntary,
                               after.receiverSwitches.involuntary - first.receiverSwitches.involuntary),
            machineBusy: machineBusy, othersBusy: max(0, machineBusy - (after.oursSeconds - first.oursSeconds) / machineTotal),
            busiestOthers: after.processes.busiest(since: first.processes, elapsed: elapsed, excluding: [receiver.pid, getpid(), postgresPID],
                                                   server: postgresPID),
            walFlushMilliseconds: walAfter.meanMilliseconds(since: walBefore),
            walFlushesPerFrame: Double(walAfter.count - walBefore.count) / Double(max(1, snapshot.outcomes.count)),
            receiverFrames: framesAfter.merging(framesBefore) { $0 - $1 })
    }

    /// `stam_dc09_frames_total` by answer, from the receiver's /metrics.
    private func receiverFrames() async throws -> [String: Double] {
        let response = try await HTTPGet.get(port: stack.metricsPort, path: "/metrics", timeout: 10)
        var frames: [String: Double] = [:]
        let prefix = "stam_dc09_frames_total{answer=\""
        for line in response.body.split(separator: "\n") where line.hasPrefix(prefix) {
            let rest = line.dropFirst(prefix.count)
            guard let quote = rest.firstIndex(of: "\""), let value = rest.split(separator: " ").last.flatMap({ Double($0) }) else { continue }
            frames[String(rest[..<quote])] = value
        }
        return frames
    }
}
