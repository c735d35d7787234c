import Testing
@testable import Satel

@Suite struct ReconnectBackoffTests {
    let backoff = ReconnectBackoff(initialDelay: 1, maximumDelay: 30, multiplier: 2, busyDelay: 15, jitter: 0.5)

    @Test func growsExponentiallyUpToTheCap() {
        let delays = (1...8).map { backoff.delay(afterFailures: $0, busy: false, unit: 0) }
        #expect(delays == [1, 2, 4, 8, 16, 30, 30, 30])
    }

    @Test func jitterOnlyShortensWithinItsShare() {
        #expect(backoff.delay(afterFailures: 3, busy: false, unit: 1) == 2)
        #expect(backoff.delay(afterFailures: 3, busy: false, unit: 0.5) == 3)
    }

    @Test func busyWaitsAtLeastTheBusyDelay() {
        #expect(backoff.delay(afterFailures: 1, busy: true, unit: 0) == 15)
        #expect(backoff.delay(afterFailures: 7, busy: true, unit: 0) == 30)
    }
}
