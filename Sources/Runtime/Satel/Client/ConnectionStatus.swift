/// Where the client's link to the module stands.
public enum ConnectionStatus: Hashable, Sendable {
    case connecting(attempt: Int)
    /// TCP is up; identification and the first full read follow.
    case connected
    /// The first full read after connecting is done: the snapshot is complete.
    case synchronized
    /// The link is down; the client retries after `retryIn` seconds unless it is shutting down.
    case disconnected(SatelClientError, retryIn: Double?)
}
