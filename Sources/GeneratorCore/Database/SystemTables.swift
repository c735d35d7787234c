/// Tables stam needs besides the schema's entities: the transactional outbox and the consumers'
/// processed-message log. They take part in migrations like any other table.
public enum SystemTables {
    public static let outbox = "outbox"
    public static let processedMessages = "processed_messages"
    /// One row per running relay, refreshed every few seconds: `outbox_relay_active_instances` counts the fresh ones.
    public static let outboxRelays = "outbox_relays"
    /// Owned by the migration runner itself, never by a migration.
    public static let schemaMigrations = "schema_migrations"

    public static let names: Set<String> = [outbox, processedMessages, outboxRelays, schemaMigrations]

    static var tables: [DatabaseModel.Table] {
        typealias Column = DatabaseModel.Column
        let outboxTable = DatabaseModel.Table(
            name: outbox,
            columns: [
                // The id is the AMQP message id; consumers deduplicate on it.
                Column(name: "id", type: "uuid", nullable: false, defaultExpression: "gen_random_uuid()"),
                // Commit order within the table; relays publish each aggregate's rows in this order.
                Column(name: "seq", type: "bigserial", nullable: false, defaultExpression: nil),
                Column(name: "aggregate_type", type: "text", nullable: false, defaultExpression: nil),
                Column(name: "aggregate_id", type: "uuid", nullable: false, defaultExpression: nil),
                Column(name: "event_name", type: "text", nullable: false, defaultExpression: nil),
                Column(name: "event_version", type: "integer", nullable: false, defaultExpression: nil),
                Column(name: "exchange", type: "text", nullable: false, defaultExpression: nil),
                Column(name: "routing_key", type: "text", nullable: false, defaultExpression: nil),
                Column(name: "payload", type: "jsonb", nullable: false, defaultExpression: nil),
                Column(name: "headers", type: "jsonb", nullable: false, defaultExpression: "'{}'::jsonb"),
                Column(name: "created_at", type: "timestamptz", nullable: false, defaultExpression: "now()"),
                Column(name: "attempts", type: "integer", nullable: false, defaultExpression: "0"),
                Column(name: "last_error", type: "text", nullable: true, defaultExpression: nil),
                Column(name: "next_attempt_at", type: "timestamptz", nullable: false, defaultExpression: "now()"),
                Column(name: "published_at", type: "timestamptz", nullable: true, defaultExpression: nil),
            ],
            primaryKey: ["id"], foreignKeys: [], uniqueConstraints: [
                .init(name: SQLNames.unique(table: outbox, columns: ["seq"]), columns: ["seq"]),
            ], checks: [],
            indexes: [
                .init(name: "outbox_pending_idx", columns: ["seq"], predicate: "published_at IS NULL"),
                .init(name: SQLNames.index(table: outbox, columns: ["aggregate_id", "seq"]), columns: ["aggregate_id", "seq"], predicate: nil),
            ])
        let processed = DatabaseModel.Table(
            name: processedMessages,
            columns: [
                Column(name: "consumer", type: "text", nullable: false, defaultExpression: nil),
                Column(name: "message_id", type: "uuid", nullable: false, defaultExpression: nil),
                Column(name: "processed_at", type: "timestamptz", nullable: false, defaultExpression: "now()"),
            ],
            primaryKey: ["consumer", "message_id"], foreignKeys: [], uniqueConstraints: [], checks: [],
            indexes: [.init(name: SQLNames.index(table: processedMessages, columns: ["processed_at"]), columns: ["processed_at"], predicate: nil)])
        let relays = DatabaseModel.Table(
            name: outboxRelays,
            columns: [
                Column(name: "instance", type: "text", nullable: false, defaultExpression: nil),
                Column(name: "started_at", type: "timestamptz", nullable: false, defaultExpression: "now()"),
                Column(name: "heartbeat_at", type: "timestamptz", nullable: false, defaultExpression: "now()"),
            ],
            primaryKey: ["instance"], foreignKeys: [], uniqueConstraints: [], checks: [], indexes: [])
        return [outboxTable, processed, relays]
    }
}
