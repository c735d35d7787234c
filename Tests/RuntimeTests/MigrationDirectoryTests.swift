import Foundation
import MigrationSupport
import Testing

@Suite struct MigrationDirectoryTests {
    func directory(_ files: [String: String], manifest: Bool = true) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("migrations-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        var parsed: [MigrationFile] = []
        for (name, sql) in files.sorted(by: { $0.key < $1.key }) {
            try sql.write(toFile: "\(path)/\(name)", atomically: true, encoding: .utf8)
            parsed.append(try MigrationFile(fileName: name, sql: sql))
        }
        if manifest {
            try MigrationManifest(files: parsed).rendered.write(toFile: "\(path)/manifest.sha256", atomically: true, encoding: .utf8)
        }
        return path
    }

    @Test func checksumIsSha256OfTheFile() throws {
        // `printf 'SELECT 1;\n' | sha256sum`
        #expect(MigrationFile.checksum(of: "SELECT 1;\n") == "b4e0497804e46e0a0b0b8c31975b062152d551bac49c3c2e80932567b4085dcd")
        let path = try directory(["0001_a.sql": "SELECT 1;\n"])
        let output = try shell("cd \(path) && sha256sum -c manifest.sha256")
        #expect(output.contains("0001_a.sql: OK"))
    }

    @Test func aValidDirectoryVerifies() throws {
        let path = try directory(["0001_a.sql": "SELECT 1;", "0002_b.sql": "SELECT 2;"])
        let loaded = try MigrationDirectory(path: path)
        try loaded.verify()
        #expect(loaded.files.map(\.name) == ["0001_a", "0002_b"])
    }

    @Test func anEditedFileIsRefused() throws {
        let path = try directory(["0001_a.sql": "SELECT 1;"])
        try "SELECT 666;".write(toFile: "\(path)/0001_a.sql", atomically: true, encoding: .utf8)
        #expect(throws: MigrationFileError.self) { try MigrationDirectory(path: path).verify() }
        do {
            try MigrationDirectory(path: path).verify()
        } catch {
            #expect(error.code == .checksumMismatch)
            #expect(error.description.hasPrefix("\(path)/0001_a.sql: error: the migration was changed after it was committed"))
        }
    }

    @Test func gapsUnlistedAndMissingFilesAreRefused() throws {
        func code(_ path: String) -> MigrationFileError.Code? {
            do { try MigrationDirectory(path: path).verify(); return nil } catch { return error.code }
        }
        #expect(code(try directory(["0001_a.sql": "SELECT 1;", "0003_c.sql": "SELECT 3;"])) == .gap)
        #expect(code(try directory(["0001_a.sql": "SELECT 1;"], manifest: false)) == .missingFromManifest)
        let missing = try directory(["0001_a.sql": "SELECT 1;", "0002_b.sql": "SELECT 2;"])
        try FileManager.default.removeItem(atPath: "\(missing)/0002_b.sql")
        #expect(code(missing) == .missingFile)
    }

    @Test func badFileNamesAreRefused() {
        #expect(MigrationFile.parse(fileName: "0001_initial.sql")?.number == 1)
        #expect(MigrationFile.parse(fileName: "1_initial.sql") == nil)
        #expect(MigrationFile.parse(fileName: "0001-initial.sql") == nil)
        #expect(MigrationFile.parse(fileName: "0001_Initial.sql") == nil)
        #expect(MigrationFile.parse(fileName: "0000_zero.sql") == nil)
    }

    func shell(_ command: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        process.waitUntilExit()
        return String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }
}
