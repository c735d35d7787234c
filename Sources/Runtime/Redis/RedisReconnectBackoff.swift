/// When the next connect may be tried: exponential from the initial delay to the maximum, with jitter so
/// that many clients do not reconnect in lockstep after a server restart.
struct RedisReconnectBackoff {
    let initial: Duration
    let maximum: Duration
    private(set) var failures = 0
    private(set) var notBefore: ContinuousClock.Instant?

    init(initial: Duration, maximum: Duration) {
        self.initial = initial
        self.maximum = maximum
    }

    func mayTry(at now: ContinuousClock.Instant) -> Bool {
        notBefore.map { now >= $0 } ?? true
    }

    mutating func failed(at now: ContinuousClock.Instant) -> Duration {
        failures += 1
        var delay = initial
        for _ in 1..<min(failures, 20) where delay < maximum { delay *= 2 }
        delay = min(delay, maximum)
        delay = delay * Double.random(in: 0.75...1.0)
        notBefore = now + delay
        return delay
    }

    mutating func succeeded() {
        failures = 0
        notBefore = nil
    }
}
