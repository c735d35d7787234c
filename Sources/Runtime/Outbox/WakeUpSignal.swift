import Synchronization

/// "There may be new outbox rows": set by NOTIFY, consumed by the idle relay. The waiter checks it every
/// 25 ms, so a notified row is picked up within that (far below any alarm latency that matters) without
/// juggling continuations across cancellation.
final class WakeUpSignal: Sendable {
    private let pending = Mutex(false)

    func signal() { pending.withLock { $0 = true } }

    /// Returns when signalled (clearing the signal), after `timeout`, or on cancellation.
    func wait(upTo timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline && !Task.isCancelled {
            if pending.withLock({ let was = $0; $0 = false; return was }) { return }
            try? await Task.sleep(for: .milliseconds(25))
        }
    }
}
