import Foundation
@testable import Outbox
import Synchronization
import Testing

/// The idle relay's wake-up: a NOTIFY must wake it now, not at its next look, and a wait must end on its timeout and
/// on cancellation. A lost wake-up shows as a wait that ran into its 20 s timeout.
@Suite struct WakeUpSignalTests {
    @Test func aSignalWakesTheWaiterBeforeItsTimeout() async {
        let signal = WakeUpSignal()
        for round in 0..<200 {
            let started = ContinuousClock.now
            async let waited: Void = signal.wait(upTo: .seconds(20))
            if round % 2 == 0 { try? await Task.sleep(for: .milliseconds(1)) }  // suspended or not yet
            signal.signal()
            await waited
            #expect(ContinuousClock.now - started < .seconds(10), "round \(round) waited for its timeout")
        }
    }

    @Test func signalsWhileNobodyWaitsCollapseIntoOneWakeUp() async {
        let signal = WakeUpSignal()
        for _ in 0..<1000 { signal.signal() }
        let started = ContinuousClock.now
        await signal.wait(upTo: .seconds(20))
        #expect(ContinuousClock.now - started < .seconds(10), "the pending signal did not end the wait")
        await signal.wait(upTo: .milliseconds(200))
        #expect(ContinuousClock.now - started >= .milliseconds(200), "a second wait ended without a second signal")
    }

    @Test func aWaitEndsOnItsTimeoutAndALaterSignalIsKept() async {
        let signal = WakeUpSignal()
        let started = ContinuousClock.now
        await signal.wait(upTo: .milliseconds(100))
        #expect(ContinuousClock.now - started >= .milliseconds(100))
        signal.signal()
        let again = ContinuousClock.now
        await signal.wait(upTo: .seconds(20))
        #expect(ContinuousClock.now - again < .seconds(10), "the signal after a timed-out wait was lost")
    }

    @Test func aCancelledWaitEnds() async {
        let signal = WakeUpSignal()
        for round in 0..<100 {
            let started = ContinuousClock.now
            let waiter = Task { await signal.wait(upTo: .seconds(20)) }
            if round % 2 == 0 { try? await Task.sleep(for: .milliseconds(1)) }
            waiter.cancel()
            await waiter.value
            #expect(ContinuousClock.now - started < .seconds(10), "round \(round) waited for its timeout")
        }
        signal.signal()
        await signal.wait(upTo: .seconds(20))  // still usable after cancellations
    }
}
