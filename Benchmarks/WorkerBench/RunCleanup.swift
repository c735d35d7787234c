import Dispatch
import Foundation
import DevStack
import NIOConcurrencyHelpers

/// Everything one run started, stopped by PID when the run ends, fails or is interrupted (SIGINT/SIGTERM):
/// the children newest first (the worker before the simulator it reads), then the servers.
final class RunCleanup: Sendable {
    private struct State {
        var stack: WorkerBenchStack?
        var children: [LocalProcess] = []
    }

    private let state = NIOLockedValueBox(State())
    /// Held for a whole `stopAll`, so a second caller returns only when everything is stopped (the main
    /// task failing because the signal handler stopped its children must not exit before the servers are).
    private let stopping = NIOLock()
    private let interrupted = NIOLockedValueBox(false)

    /// True once SIGINT or SIGTERM arrived.
    var wasInterrupted: Bool { interrupted.withLockedValue { $0 } }

    /// On SIGINT or SIGTERM: stop everything, then exit with 128 + the signal. The children run in their own
    /// process groups, so a Ctrl-C in the terminal reaches only us. Keep the returned sources alive.
    func stopAllOnSignals() -> [any DispatchSourceSignal] {
        [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            // Here, not in main.swift: a handler written there would be main-actor isolated and trap when
            // Dispatch runs it on its own queue.
            source.setEventHandler { [self] in
                interrupted.withLockedValue { $0 = true }
                stopAll()
                exit(128 + number)
            }
            source.resume()
            return source
        }
    }

    func use(_ stack: WorkerBenchStack) {
        state.withLockedValue { $0.stack = stack }
    }

    func add(_ child: LocalProcess) {
        state.withLockedValue { $0.children.append(child) }
    }

    /// Stops the children started so far (newest first) and forgets them; the servers keep running for the next run.
    func stopChildren() {
        let children = state.withLockedValue { state in
            defer { state.children = [] }
            return state.children
        }
        for child in children.reversed() {
            child.stop(signal: SIGTERM, timeout: .seconds(15))
        }
    }

    /// Idempotent: a second call (the signal handler racing the normal end) finds nothing left to stop.
    /// After a failure the children's and PostgreSQL's logs are kept (the run directory is deleted); returns
    /// where.
    @discardableResult
    func stopAll(keepingLogs: Bool = false) -> String? {
        stopping.withLock { stopEverything(keepingLogs: keepingLogs) }
    }

    private func stopEverything(keepingLogs: Bool) -> String? {
        let (stack, children) = state.withLockedValue { state in
            defer { state = State() }
            return (state.stack, state.children)
        }
        for child in children.reversed() {
            child.stop(signal: SIGTERM, timeout: .seconds(15))
        }
        guard let stack else { return nil }
        var kept: String?
        if keepingLogs {
            let target = "\(WorkerBenchStack.baseDirectory)/worker-bench-logs-\(getpid())"
            let manager = FileManager.default
            try? manager.createDirectory(atPath: target, withIntermediateDirectories: true)
            let logs = ((try? manager.contentsOfDirectory(atPath: stack.directory)) ?? []).filter { $0.hasSuffix(".log") }
            for log in logs {
                try? manager.copyItem(atPath: "\(stack.directory)/\(log)", toPath: "\(target)/\(log)")
            }
            try? manager.copyItem(atPath: stack.postgres.logFile, toPath: "\(target)/postgres.log")
            kept = target
        }
        stack.stop()
        return kept
    }
}
