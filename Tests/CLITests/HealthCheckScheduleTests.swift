import Testing
@testable import stam

/// `stam up --env prod` runs the containers' health checks itself (no systemd here); when it runs them decides how
/// soon the engine calls a slow starter `unhealthy`, and docker-compose gives up on its dependants at that moment.
@Suite struct HealthCheckScheduleTests {
    /// Runs the schedule as the scheduler does (look, check what is due, sleep as told) over `seconds`, with the
    /// containers `listing` gives at each look; returns each container's check times.
    static func checks(
        over seconds: Double, timings: [String: HealthCheckSchedule.Timing],
        listing: (Double) -> [HealthCheckSchedule.Container]
    ) -> [String: [Double]] {
        var schedule = HealthCheckSchedule()
        var checks: [String: [Double]] = [:]
        var now = 0.0
        while now <= seconds {
            for id in schedule.due(listing(now), timings: timings, now: now) { checks[id, default: []].append(now) }
            let wait = schedule.wait(now: now)
            #expect(wait >= 0.1 && wait <= 2, "slept \(wait) s at \(now)")
            now += wait
        }
        return checks
    }

    static let compose = HealthCheckSchedule.Timing(interval: 10, startPeriod: 10)

    /// Podman 4.3 counts a failed check only after the start period (checked by hand: `podman healthcheck run` every
    /// 1.8 s on a container whose check fails, start period 10 s, 3 retries: `unhealthy` at 14.2 s). Checking every
    /// 2 s after the start period made a backend recreated by update.sh `unhealthy` after 16 s; Docker's daemon allows
    /// start period + 3 intervals.
    @Test func aContainerThatNeverPassesIsCheckedEveryStartIntervalOnlyWithinItsStartPeriod() {
        let checks = Self.checks(over: 45, timings: ["b": Self.compose]) { _ in
            [HealthCheckSchedule.Container(id: "b", health: .starting, startedAt: 0)]
        }
        #expect(checks["b"] == [0, 2, 4, 6, 8, 18, 28, 38])
        let counted = checks["b", default: []].filter { $0 >= Self.compose.startPeriod }
        #expect(counted.count >= 3 && counted[2] >= Self.compose.startPeriod + 2 * Self.compose.interval,
                "the engine would call it unhealthy at \(counted.dropFirst(2).first ?? -1) s")
    }

    @Test func aContainerWithAVerdictIsCheckedAtItsInterval() {
        let checks = Self.checks(over: 35, timings: ["n": Self.compose, "p": .init(interval: 5, startPeriod: 0)]) { now in
            [HealthCheckSchedule.Container(id: "n", health: now < 3 ? .starting : .healthy, startedAt: 0),
             HealthCheckSchedule.Container(id: "p", health: .unhealthy, startedAt: 0)]
        }
        #expect(checks["n"] == [0, 2, 12, 22, 32])
        #expect(checks["p"] == [0, 5, 10, 15, 20, 25, 30, 35])
    }

    /// `restart: always` restarts a container under the same ID: its start period begins again, checked at once.
    @Test func aContainerRestartedUnderTheSameIDIsCheckedAtOnceAndGetsItsStartPeriodAgain() {
        let checks = Self.checks(over: 40, timings: ["w": Self.compose]) { now in
            now < 21 ? [HealthCheckSchedule.Container(id: "w", health: now < 1 ? .starting : .healthy, startedAt: 0)]
                     : [HealthCheckSchedule.Container(id: "w", health: .starting, startedAt: 21)]
        }
        #expect(checks["w"] == [0, 10, 20, 22, 24, 26, 28, 30, 40])
    }

    /// A container gone (removed, recreated under a new ID) is never due again, and a new one is checked at once.
    @Test func aRecreatedContainerIsANewContainer() {
        let checks = Self.checks(over: 12, timings: ["old": Self.compose, "new": Self.compose]) { now in
            [HealthCheckSchedule.Container(id: now < 5 ? "old" : "new", health: .healthy, startedAt: now < 5 ? 0 : 5)]
        }
        #expect(checks["old"] == [0])
        #expect(checks["new"] == [6])
        var schedule = HealthCheckSchedule()
        _ = schedule.due([.init(id: "x", health: .healthy, startedAt: 0)], timings: ["x": Self.compose], now: 0)
        _ = schedule.due([], timings: [:], now: 1)
        #expect(schedule.wait(now: 1) == 2, "nothing to check: look again after the start interval")
    }

    /// Fifteen containers that became healthy together (the prod stack's backends, relays, worker...) are checked one
    /// at a time, spread over the interval, not in a burst of fifteen processes every 10 s.
    @Test func checksAtTheIntervalAreSpreadOverIt() {
        let ids = (1...15).map { "c\($0)" }
        let checks = Self.checks(over: 60, timings: Dictionary(uniqueKeysWithValues: ids.map { ($0, Self.compose) })) { _ in
            ids.map { HealthCheckSchedule.Container(id: $0, health: .healthy, startedAt: 0) }
        }
        #expect(ids.allSatisfy { checks[$0]?.first == 0 }, "a container without a verdict is checked at once")
        let later = checks.values.flatMap { $0.dropFirst() }.sorted()
        #expect(later.count >= 15 * 4, "\(later.count) checks at the interval")
        let closest = zip(later, later.dropFirst()).map { $1 - $0 }.min() ?? 0
        #expect(closest >= 0.5 - 1e-9, "two checks \(closest) s apart")
        // The first round after the checks made together is spread over three quarters of the interval, once; after
        // that each container keeps its interval.
        for id in ids {
            let gaps = zip(checks[id, default: []], checks[id, default: []].dropFirst()).map { $1 - $0 }
            #expect(gaps.count >= 4 && gaps[0] <= 1.75 * Self.compose.interval, "\(id): \(gaps)")
            #expect(gaps.dropFirst().allSatisfy { abs($0 - Self.compose.interval) < 1e-9 }, "\(id): \(gaps)")
        }
    }

    @Test func podmanListingsAndDurationsAreRead() {
        #expect(ContainerHealthScheduler.container(fromListing: "c5657b1cbbf2|Up Less than a second ago (starting)|1796621626")
                == .init(id: "c5657b1cbbf2", health: .starting, startedAt: 1796621626))
        #expect(ContainerHealthScheduler.container(fromListing: "a|Up 3 minutes (unhealthy)|5")?.health == .unhealthy)
        #expect(ContainerHealthScheduler.container(fromListing: "a|Up 3 minutes (healthy)|5")?.health == .healthy)
        #expect(ContainerHealthScheduler.container(fromListing: "a|Up 3 minutes|5") == nil, "no health check")
        #expect(ContainerHealthScheduler.container(fromListing: "a|Up (healthy)") == nil)
        #expect(ContainerHealthScheduler.seconds(ofGoDuration: "10s") == 10)
        #expect(ContainerHealthScheduler.seconds(ofGoDuration: "1m30s") == 90)
        #expect(ContainerHealthScheduler.seconds(ofGoDuration: "1h0m0s") == 3600)
        #expect(ContainerHealthScheduler.seconds(ofGoDuration: "500ms") == 0.5)
        #expect(ContainerHealthScheduler.seconds(ofGoDuration: "0s") == 0)
        #expect(ContainerHealthScheduler.seconds(ofGoDuration: "30000000000") == 30)
        #expect(ContainerHealthScheduler.seconds(ofGoDuration: "") == nil)
        #expect(ContainerHealthScheduler.seconds(ofGoDuration: "ten") == nil)
        #expect(ContainerHealthScheduler.seconds(ofGoDuration: "10x") == nil)
    }
}
