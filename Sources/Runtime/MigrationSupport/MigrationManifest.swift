/// `migrations/manifest.sha256`: one `<sha256>  <file>` line per migration, in order, in the format
/// `sha256sum` writes, so an administrator can verify a deployed copy with `sha256sum -c manifest.sha256`.
public struct MigrationManifest: Hashable, Sendable {
    public static let fileName = "manifest.sha256"

    public struct Entry: Hashable, Sendable {
        public var checksum: String
        public var fileName: String

        public init(checksum: String, fileName: String) {
            self.checksum = checksum
            self.fileName = fileName
        }
    }

    public var entries: [Entry]

    public init(entries: [Entry]) { self.entries = entries }

    public init(files: [MigrationFile]) {
        entries = files.map { Entry(checksum: $0.checksum, fileName: $0.fileName) }
    }

    public init(parsing text: String, path: String) throws(MigrationFileError) {
        var entries: [Entry] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
            guard parts.count == 2, parts[0].count == 64, parts[0].allSatisfy(\.isHexDigit) else {
                throw MigrationFileError(code: .malformedManifest, file: "\(path):\(number + 1)",
                                         message: "expected '<sha256>  <file>' as written by sha256sum")
            }
            entries.append(Entry(checksum: String(parts[0]),
                                 fileName: String(parts[1].drop { $0 == " " || $0 == "*" })))
        }
        self.entries = entries
    }

    public var rendered: String {
        entries.map { "\($0.checksum)  \($0.fileName)\n" }.joined()
    }
}
