import Foundation

/// The committed migrations of the project, read and verified: numbered 1, 2, 3 ... without gaps, each file
/// listed in the manifest with a matching checksum. Both `stamgen check` and `stam migrate` read migrations
/// through here, so they agree on what a valid directory is.
public struct MigrationDirectory: Sendable {
    public var path: String
    public var files: [MigrationFile]
    public var manifest: MigrationManifest?

    /// Reads `*.sql` files and the manifest; the directory may be missing (no migrations yet).
    public init(path: String) throws(MigrationFileError) {
        self.path = path
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            names = []
        }
        var files: [MigrationFile] = []
        for name in names.sorted() where name.hasSuffix(".sql") {
            let filePath = (path as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: filePath), let sql = String(data: data, encoding: .utf8) else {
                throw MigrationFileError(code: .unreadable, file: filePath, message: "cannot read the file as UTF-8")
            }
            do {
                files.append(try MigrationFile(fileName: name, sql: sql))
            } catch var error {
                error.file = filePath
                throw error
            }
        }
        self.files = files.sorted { $0.number < $1.number }
        let manifestPath = (path as NSString).appendingPathComponent(MigrationManifest.fileName)
        if let data = FileManager.default.contents(atPath: manifestPath) {
            manifest = try MigrationManifest(parsing: String(decoding: data, as: UTF8.self), path: manifestPath)
        }
    }

    /// Numbering and manifest agreement. Called before anything is applied or generated.
    public func verify() throws(MigrationFileError) {
        var expected = 1
        for file in files {
            let filePath = (path as NSString).appendingPathComponent(file.fileName)
            if file.number < expected {
                throw MigrationFileError(code: .duplicateNumber, file: filePath, message: "another migration already has number \(file.number)")
            }
            if file.number > expected {
                throw MigrationFileError(code: .gap, file: filePath, message: "migration number \(expected) is missing before this one")
            }
            expected += 1
        }
        guard !files.isEmpty || manifest != nil else { return }
        let manifestPath = (path as NSString).appendingPathComponent(MigrationManifest.fileName)
        guard let manifest else {
            throw MigrationFileError(code: .missingFromManifest, file: manifestPath, message: "the manifest is missing; migrations are unverifiable")
        }
        for file in files {
            let filePath = (path as NSString).appendingPathComponent(file.fileName)
            guard let entry = manifest.entries.first(where: { $0.fileName == file.fileName }) else {
                throw MigrationFileError(code: .missingFromManifest, file: filePath, message: "the migration is not listed in \(MigrationManifest.fileName)")
            }
            if entry.checksum != file.checksum {
                throw MigrationFileError(
                    code: .checksumMismatch, file: filePath,
                    message: "the migration was changed after it was committed (sha256 \(file.checksum), manifest says \(entry.checksum)); committed migrations are immutable: revert it and add a new migration")
            }
        }
        for entry in manifest.entries where !files.contains(where: { $0.fileName == entry.fileName }) {
            throw MigrationFileError(code: .missingFile, file: (path as NSString).appendingPathComponent(entry.fileName),
                                     message: "listed in \(MigrationManifest.fileName) but the file is missing")
        }
    }
}
