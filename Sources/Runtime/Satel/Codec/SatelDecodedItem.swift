/// What the frame decoder produces: a good frame, or a malformed one reported as a value.
public enum SatelDecodedItem: Hashable, Sendable {
    case frame(SatelFrame)
    case malformed(SatelFramingError)
}
