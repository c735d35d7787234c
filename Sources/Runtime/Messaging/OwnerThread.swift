import Foundation

/// One dedicated OS thread that runs a blocking client's calls, one at a time. rabbitmq-c (like hiredis)
/// blocks in `poll`/`recv`; running it on NIO event loops or Swift's cooperative pool would stall unrelated
/// work, so each connection gets a thread of its own and async callers wait for their job's result.
/// When no job arrives for `idleInterval`, `onIdle` runs on the thread (heartbeats for an idle connection).
final class OwnerThread: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [() -> Void] = []
    private var stopping = false
    private let idleInterval: TimeInterval
    private let onIdle: (() -> Void)?

    init(name: String, idleInterval: TimeInterval = 1, onIdle: (() -> Void)? = nil) {
        self.idleInterval = idleInterval
        self.onIdle = onIdle
        let thread = Thread { [self] in loop() }
        thread.name = name
        thread.start()
    }

    private func loop() {
        while true {
            condition.lock()
            if jobs.isEmpty && !stopping {
                _ = condition.wait(until: Date(timeIntervalSinceNow: idleInterval))
            }
            if jobs.isEmpty {
                let stop = stopping
                condition.unlock()
                if stop { return }
                onIdle?()
                continue
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
    }

    /// Runs `body` on the owner thread and returns its result.
    func run<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            guard !stopping else {
                condition.unlock()
                continuation.resume(throwing: AMQPError(code: .disconnected, message: "the connection was shut down"))
                return
            }
            jobs.append { continuation.resume(with: Swift.Result { try body() }) }
            condition.signal()
            condition.unlock()
        }
    }

    /// Lets queued jobs finish, then ends the thread.
    func shutdown() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }
}
