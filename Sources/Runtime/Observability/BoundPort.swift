import Synchronization

/// The port a server actually listens on, known only once it has bound (port 0 asks the kernel for a free
/// one). Tests and `stam` wait for it instead of sleeping.
public final class BoundPort: Sendable {
    private let state = Mutex<(result: Result<Int, any Error>?, waiters: [CheckedContinuation<Int, any Error>])>((nil, []))

    init() {}

    /// The bound port, waiting until the server has bound; throws if it stopped or failed before binding.
    public func value() async throws -> Int {
        try await withCheckedThrowingContinuation { continuation in
            let ready = state.withLock { state -> Result<Int, any Error>? in
                if let result = state.result { return result }
                state.waiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(with: ready) }
        }
    }

    /// The bound port if the server has bound, without waiting.
    public var current: Int? {
        state.withLock { state in
            if case .success(let port)? = state.result { return port }
            return nil
        }
    }

    func resolve(_ result: Result<Int, any Error>) {
        let waiters = state.withLock { state -> [CheckedContinuation<Int, any Error>] in
            guard state.result == nil else { return [] }
            state.result = result
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(with: result) }
    }
}
