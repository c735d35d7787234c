import Crypto
import Foundation

/// One committed migration, `migrations/0003_add_zone_masks.sql`: its number orders it, its SHA-256 pins it.
public struct MigrationFile: Hashable, Sendable {
    /// File name without directory, e.g. `0003_add_zone_masks.sql`.
    public var fileName: String
    public var number: Int
    /// `0003_add_zone_masks`, as recorded in `schema_migrations`.
    public var name: String
    public var sql: String
    public var checksum: String

    public init(fileName: String, sql: String) throws(MigrationFileError) {
        guard let parsed = Self.parse(fileName: fileName) else {
            throw MigrationFileError(code: .badFileName, file: fileName,
                                     message: "migration file names look like 0001_name.sql (4 digits, underscore, lower snake_case)")
        }
        self.fileName = fileName
        self.number = parsed.number
        self.name = parsed.name
        self.sql = sql
        self.checksum = Self.checksum(of: sql)
    }

    /// `0003_add_zone_masks.sql` -> (3, `0003_add_zone_masks`).
    public static func parse(fileName: String) -> (number: Int, name: String)? {
        guard fileName.hasSuffix(".sql") else { return nil }
        let name = String(fileName.dropLast(4))
        let digits = name.prefix(4)
        guard digits.count == 4, digits.allSatisfy(\.isASCII), let number = Int(digits), number > 0 else { return nil }
        let rest = name.dropFirst(4)
        guard rest.first == "_", rest.count > 1,
              rest.dropFirst().allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }) else { return nil }
        return (number, name)
    }

    /// `0004_name.sql` for the migration after `previous`.
    public static func fileName(number: Int, name: String) -> String {
        let digits = String(number)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits + "_" + name + ".sql"
    }

    /// Lower-case hex SHA-256 of the file's UTF-8 bytes, the same value `sha256sum` prints.
    public static func checksum(of text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
