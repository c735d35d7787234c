/// One page of a keyset-paginated list: the rows and, when more follow, the cursor for the next page.
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    /// Opaque; pass it back as `after` to continue. `nil` on the last page.
    public var nextCursor: String?

    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }
}

extension Page: Equatable where Item: Equatable {}
