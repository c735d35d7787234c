/// Why a migrations directory cannot be trusted or applied; `description` names the file.
public struct MigrationFileError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case badFileName = "bad_file_name"
        case unreadable
        case duplicateNumber = "duplicate_number"
        case missingFromManifest = "missing_from_manifest"
        case missingFile = "missing_file"
        case checksumMismatch = "checksum_mismatch"
        case malformedManifest = "malformed_manifest"
        case gap
    }

    public var code: Code
    public var file: String
    public var message: String

    public init(code: Code, file: String, message: String) {
        self.code = code
        self.file = file
        self.message = message
    }

    public var description: String { "\(file): error: \(message)" }
}
