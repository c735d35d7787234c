import Synchronization

/// "There may be new work": set by whoever knows (NOTIFY for the outbox relay, the command queue for the worker's
/// `CommandExecutor`), consumed by the one idle loop waiting on it, which wakes at once.
///
/// It used to be a flag the waiter read every 25 ms: 12.5 ms on average, up to 25 ms, between an alarm's commit and
/// its publish, and 40 wake-ups a second per idle relay. One waiter at a time (the loop that owns it); signals while nobody
/// waits collapse into one pending wake-up.
public final class WakeUpSignal: Sendable {
    private struct State {
        var pending = false
        /// The current wait: its number, and its continuation once suspended.
        var waiter: UInt64?
        var continuation: CheckedContinuation<Void, Never>?
        /// The current wait was ended (timeout, cancellation) before it suspended.
        var endedEarly = false
        var waits: UInt64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    public func signal() {
        let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard state.waiter != nil else {
                state.pending = true
                return nil
            }
            return Self.end(&state)
        }
        continuation?.resume()
    }

    /// Returns when signalled (clearing the signal), after `timeout`, or on cancellation.
    public func wait(upTo timeout: Duration) async {
        let wait = state.withLock { state -> UInt64? in
            if state.pending {
                state.pending = false
                return nil
            }
            state.waits += 1
            state.waiter = state.waits
            state.continuation = nil
            state.endedEarly = false
            return state.waits
        }
        guard let wait else { return }
        let timer = Task { [self] in
            try? await Task.sleep(for: timeout)
            end(wait)
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    guard state.waiter == wait, !state.endedEarly else {
                        state.waiter = nil
                        return true
                    }
                    state.continuation = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
                // Cancelled before the handler could see the continuation: end it here (ending twice is harmless).
                else if Task.isCancelled { end(wait) }
            }
        } onCancel: {
            end(wait)
        }
        timer.cancel()
    }

    /// Ends wait number `wait` if it is still the current one.
    private func end(_ wait: UInt64) {
        let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard state.waiter == wait else { return nil }
            return Self.end(&state)
        }
        continuation?.resume()
    }

    /// Ends the current wait: its continuation to resume, or, not suspended yet, a mark that makes it return at once.
    private static func end(_ state: inout State) -> CheckedContinuation<Void, Never>? {
        guard let continuation = state.continuation else {
            state.endedEarly = true
            return nil
        }
        state.waiter = nil
        state.continuation = nil
        return continuation
    }
}
