/// What became of one frame: the answer the receiver sent and why, for the metrics and the log.
public enum DC09FrameOutcome: Sendable, Hashable {
    case acknowledged(DC09StoreOutcome)
    case refused(DC09MessageError.Code)
    /// The store failed: no answer, the sender sends again (to this receiver or its other path).
    case notStored

    /// `ack`, `duplicate`, `nak`, `duh` or `none`: the metric's label.
    public var answer: String {
        switch self {
        case .acknowledged(.stored), .acknowledged(.signalled): "ack"
        case .acknowledged(.duplicate): "duplicate"
        case .refused(.unusable): "duh"
        case .refused: "nak"
        case .notStored: "none"
        }
    }
}
