/// One dependency `/readyz` asks about: a name for the 503 body ("postgresql", "rabbitmq"), an async probe
/// that throws when the dependency is not usable, and how long the probe may take. A probe that does not
/// answer in time counts as failed: a dependency that hangs is as unusable as one that refuses.
public struct ReadinessCheck: Sendable {
    public typealias Probe = @Sendable () async throws -> Void

    public var name: String
    public var timeout: Duration
    public var probe: Probe

    public init(_ name: String, timeout: Duration = .seconds(2), probe: @escaping Probe) {
        self.name = name
        self.timeout = timeout
        self.probe = probe
    }

    /// Why the check failed (the error, or the timeout), or nil when it passed.
    ///
    /// The probe runs in a task of its own that is cancelled at the deadline and then left behind: a probe
    /// blocked in a call that ignores cancellation (a blocking client on its own thread) must not hold the
    /// HTTP response past the timeout, which it would if the probe were a child of this call.
    public func evaluate() async -> String? {
        let (probe, timeout) = (self.probe, self.timeout)
        let outcome = FirstOutcome()
        return await withCheckedContinuation { continuation in
            outcome.install(continuation)
            let work = Task {
                do {
                    try await probe()
                    outcome.settle(nil)
                } catch {
                    outcome.settle(String(describing: error))
                }
            }
            Task {
                try? await Task.sleep(for: timeout)
                if outcome.settle("no answer within \(timeout)") { work.cancel() }
            }
        }
    }
}
