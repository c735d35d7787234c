import Foundation

/// What the receiver tells its observers about one frame: the outcome, and who sent it as far as the frame said
/// (the header when it could be read). Metrics count it; the security log records frames from unknown accounts.
public struct DC09FrameReport: Sendable, Hashable {
    public var outcome: DC09FrameOutcome
    /// The header, when the frame got that far (not for a bad CRC or length).
    public var header: DC09Header?
    public var transport: DC09Sender.Transport
    public var peer: String
    public var receivedAt: Date

    public init(outcome: DC09FrameOutcome, header: DC09Header?, transport: DC09Sender.Transport, peer: String, receivedAt: Date) {
        self.outcome = outcome
        self.header = header
        self.transport = transport
        self.peer = peer
        self.receivedAt = receivedAt
    }
}
