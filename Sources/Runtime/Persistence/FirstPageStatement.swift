import PostgresNIO

/// A repository's unfiltered first page in one sort and direction (the console's default lists) as a named prepared
/// statement: PostgreSQL parses and plans it once per connection instead of on every request. The generator emits one
/// type per sort and direction, its `sql` built by the repository's own `listSQL`, so the two paths cannot drift.
///
/// Measured in ApiBench's pgbench rows: the alarm list's statement prepared ran 1.54x and 1.65x (two sessions) the
/// rate of the same statement unnamed; over HTTP the backend's own CPU limits the uncached list, and the gain was 1-8 %. Only on a connection that keeps its session: PgBouncer's transaction pooling (1.18) hands the next
/// transaction to another server connection, where the statement does not exist (`DatabaseContext.preparesStatements`).
public protocol FirstPageStatement: PostgresPreparedStatement where Row == PostgresRow {
    /// The page size plus one (the extra row only says that a next page exists), bound as `$1`.
    var limit: Int { get }
    init(limit: Int)
}

extension FirstPageStatement {
    public static var bindingDataTypes: [PostgresDataType] { [.int8] }

    public func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(limit)
        return bindings
    }

    public func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}
