import Foundation

/// Where the receiver makes a message durable before it answers ACK: the raw frame, the decoded message and its
/// events in one transaction (the PostgreSQL store, with the events' outbox rows). `store` returns only once that
/// has committed; a throw means nothing was kept, and the receiver does not ACK, so the sender sends again.
public protocol DC09MessageStore: Sendable {
    func store(_ received: DC09ReceivedMessage) async throws -> DC09StoreOutcome
}

/// A message the receiver read, with everything the store keeps.
public struct DC09ReceivedMessage: Sendable, Hashable {
    public var message: DC09Message
    public var events: [DC09Event]
    /// The frame as it came, LF and CR included.
    public var raw: [UInt8]
    public var receivedAt: Date
    public var transport: DC09Sender.Transport
    /// The sender's address, for the log and the record.
    public var peer: String

    public init(message: DC09Message, events: [DC09Event], raw: [UInt8], receivedAt: Date, transport: DC09Sender.Transport, peer: String) {
        self.message = message
        self.events = events
        self.raw = raw
        self.receivedAt = receivedAt
        self.transport = transport
        self.peer = peer
    }
}

public enum DC09StoreOutcome: Sendable, Hashable {
    /// Kept now.
    case stored
    /// A link test (NULL, no events): it refreshed the account's, its path's and its panel's last signal, and
    /// nothing else is kept (a message row for each would be 8.6 million rows a day at 1,000 accounts testing every 10 s).
    case signalled
    /// The same message (account, sequence and content) was kept a moment ago: the sender did not get our ACK and
    /// sent it again. ACKed again, kept once.
    case duplicate
}

/// What the receiver knows of each account, looked up for every frame by its header (the account, and the receiver
/// number and line prefix an account may be bound to); kept in memory, refreshed by its owner.
public protocol DC09AccountDirectory: Sendable {
    func account(_ header: DC09Header) -> DC09Account
}
