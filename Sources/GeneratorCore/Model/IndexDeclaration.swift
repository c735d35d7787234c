/// An index or a unique constraint over one or more columns of an entity, in the declared column order.
public struct IndexDeclaration: Hashable, Sendable {
    public var columns: [Located<String>]
    public var unique: Bool
    public var location: SourceLocation

    public init(columns: [Located<String>], unique: Bool, location: SourceLocation) {
        self.columns = columns
        self.unique = unique
        self.location = location
    }
}
