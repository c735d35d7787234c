import Foundation

/// Constraint and index names, built the way PostgreSQL builds its own (`sites_pkey`, `panels_site_id_fkey`)
/// and shortened deterministically when they would pass PostgreSQL's 63-byte identifier limit.
enum SQLNames {
    static let maximumLength = 63

    static func primaryKey(table: String) -> String { fit("\(table)_pkey") }
    static func foreignKey(table: String, columns: [String]) -> String { fit("\(table)_\(columns.joined(separator: "_"))_fkey") }
    static func unique(table: String, columns: [String]) -> String { fit("\(table)_\(columns.joined(separator: "_"))_key") }
    static func check(table: String, column: String) -> String { fit("\(table)_\(column)_check") }
    static func rule(table: String, column: String) -> String { fit("\(table)_\(column)_rule") }
    static func index(table: String, columns: [String]) -> String { fit("\(table)_\(columns.joined(separator: "_"))_idx") }

    /// Too long names keep a readable prefix plus a hash of the whole name, so two long names stay distinct.
    static func fit(_ name: String) -> String {
        guard name.utf8.count > maximumLength else { return name }
        var hash: UInt32 = 2_166_136_261  // FNV-1a: stable across processes, unlike Hasher.
        for byte in name.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        let suffix = String(hash, radix: 16)
        return String(name.utf8.prefix(maximumLength - 9))! + "_" + String(repeating: "0", count: 8 - suffix.count) + suffix
    }

    /// A string literal with quotes doubled.
    static func literal(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }
}


