import Synchronization

/// Resumes a continuation with whichever of a probe's outcomes (its result or its timeout) comes first,
/// exactly once.
final class FirstOutcome: Sendable {
    private let state = Mutex<(continuation: CheckedContinuation<String?, Never>?, settled: String??)>((nil, nil))

    func install(_ continuation: CheckedContinuation<String?, Never>) {
        let early: String?? = state.withLock { state in
            if let settled = state.settled { return settled }
            state.continuation = continuation
            return nil
        }
        if let early { continuation.resume(returning: early) }
    }

    /// Returns whether this outcome was the first.
    @discardableResult
    func settle(_ outcome: String?) -> Bool {
        let (first, continuation) = state.withLock { state -> (Bool, CheckedContinuation<String?, Never>?) in
            guard state.settled == nil else { return (false, nil) }
            state.settled = .some(outcome)
            defer { state.continuation = nil }
            return (true, state.continuation)
        }
        continuation?.resume(returning: outcome)
        return first
    }
}
