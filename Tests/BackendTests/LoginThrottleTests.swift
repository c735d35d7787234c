import APISupport
import Testing

/// The throttle's arithmetic on an injected clock: growing delays per (account, address), nothing shared with
/// other addresses, a per-address ceiling across accounts, a success clearing only its own pair.
@Suite struct LoginThrottleTests {
    let limits = LoginThrottle.Limits(freeFailures: 3, firstDelay: .seconds(1), maxDelay: .seconds(60), perAddress: 10, window: .seconds(900))

    @Test func delaysGrowPerAccountAndAddressAndNeverReachOtherAddresses() {
        let throttle = LoginThrottle(limits: limits)
        var now = ContinuousClock.now
        var waits: [Int] = []
        for _ in 0..<10 {
            if let (wait, reason) = throttle.retryAfter(account: "admin", address: "203.0.113.9", now: now) {
                #expect(reason == .accountAtAddress)
                waits.append(wait)
                now += .seconds(wait)  // the attacker waits as told, then fails again
                #expect(throttle.retryAfter(account: "admin", address: "203.0.113.9", now: now) == nil)
            }
            throttle.recordFailure(account: "admin", address: "203.0.113.9", now: now)
            // The admin at another address is never delayed by the attacker.
            #expect(throttle.retryAfter(account: "ADMIN", address: "198.51.100.20", now: now) == nil)
        }
        #expect(waits == [1, 2, 4, 8, 16, 32, 60])
    }

    @Test func oneAddressSprayingAccountsHitsItsCeiling() {
        let throttle = LoginThrottle(limits: limits)
        let now = ContinuousClock.now
        for index in 0..<10 { throttle.recordFailure(account: "user\(index)", address: "203.0.113.9", now: now) }
        let refusal = throttle.retryAfter(account: "someone-new", address: "203.0.113.9", now: now + .seconds(5))
        #expect(refusal?.reason == .address)
        #expect(refusal?.seconds == 895)
        #expect(throttle.retryAfter(account: "someone-new", address: "203.0.113.10", now: now) == nil)
        // The window passes: allowed again.
        #expect(throttle.retryAfter(account: "someone-new", address: "203.0.113.9", now: now + .seconds(901)) == nil)
    }

    @Test func aSuccessClearsOnlyItsOwnPair() {
        let throttle = LoginThrottle(limits: limits)
        let now = ContinuousClock.now
        for _ in 0..<5 {
            throttle.recordFailure(account: "ola", address: "192.0.2.1", now: now)
            throttle.recordFailure(account: "ola", address: "192.0.2.2", now: now)
        }
        throttle.recordSuccess(account: "ola", address: "192.0.2.1")
        #expect(throttle.retryAfter(account: "ola", address: "192.0.2.1", now: now) == nil)
        #expect(throttle.retryAfter(account: "ola", address: "192.0.2.2", now: now)?.reason == .accountAtAddress)
    }
}
