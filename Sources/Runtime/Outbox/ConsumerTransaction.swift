import Synchronization

/// What an `IdempotentConsumer` handler gets besides the connection: a place for work that must happen only
/// if the handler's transaction commits (counting an alarm it raised, say). The batch a message came in may
/// roll back and be redone message by message, so anything done directly in the handler could happen twice
/// for one committed effect, or for none.
public final class ConsumerTransaction: Sendable {
    private let actions = Mutex<[@Sendable () -> Void]>([])

    init() {}

    /// Runs `action` after the commit; never when the transaction rolls back.
    public func afterCommit(_ action: @escaping @Sendable () -> Void) {
        actions.withLock { $0.append(action) }
    }

    func committed() {
        for action in actions.withLock({ $0 }) { action() }
    }
}
