/// The built-in field types of the schema DSL.
public enum ScalarType: String, CaseIterable, Hashable, Sendable {
    case uuid, string, text, int, bigint, double, decimal, bool, timestamp, date, json, bytes, secret

    public static var names: [String] { allCases.map(\.rawValue) }
}
