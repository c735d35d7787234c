import NIOConcurrencyHelpers

/// One readiness evaluation shared by every probe that asks within `maxAge` of its start, and by every probe that
/// asks while it runs: a burst of `/readyz` requests (a health checker, a scraper, anyone on the network) costs one
/// round of dependency checks per `maxAge`, never one per request.
public final class SharedReadiness<Report: Sendable>: Sendable {
    private struct Latest {
        var started: ContinuousClock.Instant
        var task: Task<Report, Never>
    }

    private let maxAge: Duration
    private let evaluate: @Sendable () async -> Report
    private let latest = NIOLockedValueBox<Latest?>(nil)

    public init(maxAge: Duration = .seconds(1), evaluate: @escaping @Sendable () async -> Report) {
        self.maxAge = maxAge
        self.evaluate = evaluate
    }

    public func report() async -> Report {
        let now = ContinuousClock.now
        let task = latest.withLockedValue { latest -> Task<Report, Never> in
            if let current = latest, now - current.started < maxAge { return current.task }
            let task = Task { await evaluate() }
            latest = Latest(started: now, task: task)
            return task
        }
        return await task.value
    }
}
