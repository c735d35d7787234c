import Foundation

/// One dedicated OS thread that runs a blocking client's calls, one at a time. rabbitmq-c and hiredis block
/// in `poll`/`recv`; running them on NIO event loops or Swift's cooperative pool would stall unrelated work,
/// so each connection gets a thread of its own and async callers wait for their job's result.
/// When no job arrives for `idleInterval`, `onIdle` runs on the thread (heartbeats for an idle connection).
/// Shared by `Messaging` (rabbitmq-c) and `Redis` (hiredis); each passes the error its callers expect when
/// they call a thread that was already shut down.
public final class OwnerThread: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [() -> Void] = []
    private var stopping = false
    private let idleInterval: TimeInterval
    private let onIdle: (() -> Void)?
    private let shutDownError: @Sendable () -> any Error

    public init(name: String, idleInterval: TimeInterval = 1, shutDownError: @escaping @Sendable () -> any Error,
                onIdle: (() -> Void)? = nil) {
        self.idleInterval = idleInterval
        self.onIdle = onIdle
        self.shutDownError = shutDownError
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
    public func run<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            guard !stopping else {
                condition.unlock()
                continuation.resume(throwing: shutDownError())
                return
            }
            jobs.append { continuation.resume(with: Swift.Result { try body() }) }
            condition.signal()
            condition.unlock()
        }
    }

    /// Lets queued jobs finish, then ends the thread.
    public func shutdown() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }
}
