import Foundation
import StamCore

/// What a generated create, update or delete changed: `{"field": {"before": ..., "after": ...}}` for every field
/// whose value differs (a create has no `before`, a delete no `after`), and `{"field": {"changed": true}}` for a
/// secret field that changed, never its values.
public struct AuditedChange: Sendable, Equatable {
    /// `<entity>.create`, `.update`, `.delete` (`site.update`), as the hand-written actions name theirs.
    public var action: String
    public var entityType: String
    public var entityId: UUID?
    public var changes: JSONValue

    public init(action: String, entityType: String, entityId: UUID?, changes: JSONValue) {
        self.action = action
        self.entityType = entityType
        self.entityId = entityId
        self.changes = changes
    }

    /// - Parameter secrets: each secret field and whether this write changed it (the JSON of an entity carries
    ///   null for a secret, so the generated caller compares the values itself).
    public init<E: JSONWritable>(action: String, entityType: String, entityId: UUID?, before: E?, after: E?, secrets: [String: Bool]) {
        let old = before.map(Self.fields) ?? [:], new = after.map(Self.fields) ?? [:]
        var changes: [String: JSONValue] = [:]
        for name in Set(old.keys).union(new.keys) where secrets[name] == nil && old[name] != new[name] {
            var change: [String: JSONValue] = [:]
            if before != nil { change["before"] = old[name] ?? .null }
            if after != nil { change["after"] = new[name] ?? .null }
            changes[name] = .object(change)
        }
        for (name, changed) in secrets where changed { changes[name] = .object(["changed": .bool(true)]) }
        self.init(action: action, entityType: entityType, entityId: entityId, changes: .object(changes))
    }

    static func fields(_ value: some JSONWritable) -> [String: JSONValue] {
        var writer = JSONWriter(capacity: 512)
        value.writeJSON(to: &writer)
        guard case .object(let fields)? = try? JSONDecoder().decode(JSONValue.self, from: Data(writer.bytes)) else { return [:] }
        return fields
    }
}
