import Foundation

/// `migrations/schema.snapshot.json`: the database model as of the last committed migration. `migration new`
/// diffs the current schema against it; `check` fails while the two differ.
public struct MigrationSnapshot: Codable, Hashable, Sendable {
    public static let fileName = "schema.snapshot.json"

    /// The migration that produced this model, e.g. `0003_add_zone_masks`.
    public var migration: String
    public var model: DatabaseModel

    public init(migration: String, model: DatabaseModel) {
        self.migration = migration
        self.model = model
    }

    /// Pretty, key-sorted JSON so the committed file is stable and diffs well.
    public var rendered: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Encoding plain structs of strings, bools and arrays cannot fail.
        return String(decoding: try! encoder.encode(self), as: UTF8.self) + "\n"
    }

    public static func parse(_ data: Data) throws -> MigrationSnapshot {
        try JSONDecoder().decode(MigrationSnapshot.self, from: data)
    }
}
