/// What `DC09FrameDecoder` cuts out of a TCP stream: a frame, or bytes it dropped and why (the receiver counts
/// and logs them; the connection stays open).
public enum DC09StreamItem: Sendable, Hashable {
    /// The bytes between a frame's LF and its CR.
    case frame([UInt8])
    case discarded(byteCount: Int, reason: DiscardReason)

    public enum DiscardReason: String, Sendable, Hashable {
        /// Bytes before a frame's LF (line noise, a probe, the rest of a frame already given up).
        case beforeFrame = "before_frame"
        /// A frame cut short: a new LF came before its CR.
        case unterminated
        /// No CR within the largest frame DC-09 allows.
        case tooLong = "too_long"
    }
}
