/// Capped exponential back-off with jitter between reconnect attempts, so many clients that lost their
/// panels at once (a network blip) do not all come back in the same instant.
public struct ReconnectBackoff: Hashable, Sendable {
    /// The delay after the first failure, in seconds.
    public var initialDelay: Double
    public var maximumDelay: Double
    public var multiplier: Double
    /// The least wait after a "Busy!" banner: the module frees the slot some time after the other client
    /// leaves (doc §7.2, "≥ 10–15 s").
    public var busyDelay: Double
    /// The share of each delay that is randomised (0…1): the delay is drawn from [d·(1−jitter), d].
    public var jitter: Double

    public init(initialDelay: Double = 1, maximumDelay: Double = 30, multiplier: Double = 2, busyDelay: Double = 15, jitter: Double = 0.5) {
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        self.multiplier = multiplier
        self.busyDelay = busyDelay
        self.jitter = min(max(jitter, 0), 1)
    }

    /// The delay before attempt `failures + 1`; `unit` is a random draw in 0…1.
    public func delay(afterFailures failures: Int, busy: Bool, unit: Double) -> Double {
        var exponential = initialDelay
        for _ in 0..<max(0, failures - 1) {
            exponential = min(maximumDelay, exponential * multiplier)
            if exponential >= maximumDelay { break }
        }
        let base = max(min(exponential, maximumDelay), busy ? busyDelay : 0)
        return base * (1 - jitter * min(max(unit, 0), 1))
    }
}
