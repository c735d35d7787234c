/// When each container's HEALTHCHECK is due, as Docker's daemon (25 and later) schedules it: every `startInterval`
/// while the container is in its start period and has no verdict yet, at its declared interval after that.
///
/// Why the start period matters: the engine counts failures only after it (podman 4.3 as Docker), so checks every
/// 2 s after it would make a slow starter `unhealthy` after start period + 3 × 2 s (16 s with the compose files'
/// 10 s and 3 retries) where Docker's daemon allows start period + 3 × interval (40 s). docker-compose gives up on a
/// dependant (nginx after `update.sh` recreated the backends) the moment a dependency is `unhealthy`.
///
/// Checks at the interval start one at a time, `spacing` apart, the most overdue first: each `podman healthcheck run`
/// is a process and an exec into the container (about 0.1 s of CPU), and containers that became healthy together
/// would otherwise be checked together, a burst on a 2-core machine every interval. Checks that were made together
/// (the first of each container) are spread over three quarters of the next interval, once; then each container keeps
/// its interval, and the quarter left spare takes a container added later. A container without a verdict is checked
/// when due.
///
/// Pure: the caller lists the containers and runs the checks; times are wall-clock seconds (the engine reports a
/// container's start as a Unix time).
struct HealthCheckSchedule {
    enum Health: Equatable { case starting, healthy, unhealthy }

    struct Container: Equatable {
        var id: String
        var health: Health
        /// When the container (last) started, Unix seconds: a restart under the same ID starts its start period again.
        var startedAt: Double
    }

    struct Timing: Equatable {
        var interval: Double
        var startPeriod: Double
    }

    let startInterval: Double
    /// The shortest sleep between two looks, so a burst of due checks does not spin.
    let minimumWait: Double
    private var lastRun: [String: Double] = [:]
    private var every: [String: Double] = [:]
    private var spaced = Set<String>()
    private var lastSpacedStart: Double?
    private(set) var spacing: Double = 0

    init(startInterval: Double = 2, minimumWait: Double = 0.1) {
        self.startInterval = startInterval
        self.minimumWait = minimumWait
    }

    /// The containers to check now, recorded as run at `now`. Containers no longer listed are forgotten.
    mutating func due(_ containers: [Container], timings: [String: Timing], now: Double) -> [String] {
        let listed = Set(containers.map(\.id))
        lastRun = lastRun.filter { listed.contains($0.key) }
        every = every.filter { listed.contains($0.key) }
        spaced = []
        var due: [String] = []
        var overdue: [(id: String, since: Double)] = []
        for container in containers {
            guard let timing = timings[container.id] else { continue }
            let inStartPeriod = now < container.startedAt + timing.startPeriod
            let starting = container.health == .starting && inStartPeriod
            every[container.id] = starting ? startInterval : timing.interval
            guard let last = lastRun[container.id], last >= container.startedAt else {
                due.append(container.id)  // never checked, or restarted since
                continue
            }
            if starting {
                if now - last >= startInterval { due.append(container.id) }
            } else {
                spaced.insert(container.id)
                if now - last >= timing.interval { overdue.append((container.id, last + timing.interval)) }
            }
        }
        let intervals = spaced.compactMap { every[$0] }
        spacing = intervals.isEmpty ? 0 : 0.75 * intervals.min()! / Double(intervals.count)
        if let next = overdue.min(by: { $0.since < $1.since }), lastSpacedStart.map({ now - $0 >= spacing }) ?? true {
            due.append(next.id)
            lastSpacedStart = now
        }
        for id in due { lastRun[id] = now }
        return due
    }

    /// How long to sleep before looking again: until the next check is due (an overdue one waits for its spacing),
    /// at least `minimumWait`, and at most `startInterval`, so a container started meanwhile is seen that soon.
    func wait(now: Double) -> Double {
        let next = lastRun.compactMap { id, last -> Double? in
            guard let period = every[id] else { return nil }
            let due = last + period
            guard spaced.contains(id), let lastSpacedStart else { return due }
            return max(due, lastSpacedStart + spacing)
        }.min() ?? now + startInterval
        return min(max(next - now, minimumWait), startInterval)
    }
}
