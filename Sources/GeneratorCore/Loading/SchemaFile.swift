/// The four files of the schema, in the order they are loaded (later files refer to earlier ones).
public enum SchemaFile: String, CaseIterable, Sendable {
    case entities = "schema/entities.yaml"
    case events = "schema/events.yaml"
    case queues = "schema/queues.yaml"
    case deployment = "schema/deployment.yaml"

    public var path: String { rawValue }
}
