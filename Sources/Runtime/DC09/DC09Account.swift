/// What the receiver knows of an account, for reading its frames.
public enum DC09Account: Sendable, Hashable {
    /// Not an account of this station (or disabled, or bound to another receiver number or line): its frames get NAK.
    case unknown
    /// Known, sends in plain text.
    case plain
    /// Known, sends encrypted with this key; a plain frame from it is refused (someone else may be sending).
    case encrypted(DC09Key)
}
