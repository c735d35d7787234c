import Foundation
import MigrationSupport

/// The generator pipeline over a project directory: load -> validate -> render, then write, check or plan
/// a migration. Nothing is written unless the whole schema is valid.
public struct StamGenerator: Sendable {
    /// Directories whose every file belongs to the generator: a file there that the schema no longer
    /// produces is stale and is removed by `generate`.
    public static let managedDirectories = [SwiftModelRenderer.outputDirectory, SwiftRouteRenderer.outputDirectory, DeploymentRenderer.outputDirectory]
    public static let migrationsDirectory = "migrations"

    public let root: String

    public init(root: String) { self.root = root }

    /// A schema that passed validation, with its warnings.
    public struct LoadedSchema: Sendable {
        public var schema: Schema
        public var warnings: [Diagnostic]
        /// SHA-256 over the four schema files, in order.
        public var fingerprint: String
        /// `deploy/templates`, loaded from the project root; nil for schemas loaded from text alone (snippets),
        /// which then render no deployment files.
        public var templates: DeploymentTemplates?
    }

    // MARK: Load

    public func loadSchema() throws(DiagnosticList) -> LoadedSchema {
        var sources: [SchemaFile: String] = [:]
        var diagnostics = DiagnosticList()
        for file in SchemaFile.allCases {
            let path = absolute(file.path)
            guard let data = FileManager.default.contents(atPath: path) else {
                diagnostics.error("missing schema file; every project has \(SchemaFile.allCases.map(\.path).joined(separator: ", "))",
                                  at: SourceLocation(file: file.path, line: 1, column: 1))
                continue
            }
            sources[file] = String(decoding: data, as: UTF8.self)
        }
        let (templates, templateDiagnostics) = DeploymentTemplates.load(root: root)
        diagnostics.append(contentsOf: templateDiagnostics)
        var loaded = try Self.load(sources: sources, diagnostics: diagnostics)
        loaded.templates = templates
        return loaded
    }

    /// Loads and validates schema text (tests call this with snippets).
    public static func load(sources: [SchemaFile: String], diagnostics: DiagnosticList = DiagnosticList()) throws(DiagnosticList) -> LoadedSchema {
        var diagnostics = diagnostics
        let loader = SchemaLoader()
        let schema = loader.load(sources)
        diagnostics.append(contentsOf: loader.diagnostics)
        diagnostics.append(contentsOf: SchemaValidator.validate(schema))
        if diagnostics.hasErrors { throw diagnostics }
        let fingerprint = MigrationFile.checksum(of: SchemaFile.allCases.map { sources[$0] ?? "" }.joined(separator: "\u{0}"))
        return LoadedSchema(schema: schema, warnings: diagnostics.sorted, fingerprint: fingerprint)
    }

    // MARK: Render

    public func render(_ loaded: LoadedSchema) -> [GeneratedFile] {
        (SwiftModelRenderer(schema: loaded.schema).render(fingerprint: loaded.fingerprint)
            + [SwiftTopologyRenderer(schema: loaded.schema).render()]
            + SwiftRepositoryRenderer(schema: loaded.schema).render()
            + SwiftRouteRenderer(schema: loaded.schema).render()
            + OpenAPIRenderer(schema: loaded.schema).render()
            + (loaded.templates.map { DeploymentRenderer(schema: loaded.schema, templates: $0).render() } ?? []))
            .sorted { $0.path < $1.path }
    }

    /// What `generate` would change on disk.
    public struct OutputChanges: Sendable {
        public var written: [GeneratedFile] = []
        /// Files in managed directories that the schema no longer produces.
        public var stale: [String] = []
        public var unchangedCount = 0

        public var isEmpty: Bool { written.isEmpty && stale.isEmpty }

        public init(written: [GeneratedFile] = [], stale: [String] = []) {
            self.written = written
            self.stale = stale
        }
    }

    public func changes(for files: [GeneratedFile]) -> OutputChanges {
        var changes = OutputChanges()
        for file in files {
            if let existing = FileManager.default.contents(atPath: absolute(file.path)), existing == Data(file.contents.utf8) {
                changes.unchangedCount += 1
            } else {
                changes.written.append(file)
            }
        }
        let produced = Set(files.map(\.path))
        changes.stale = Self.managedDirectories.flatMap(listFiles).filter { !produced.contains($0) }.sorted()
        return changes
    }

    /// Writes changed files (only those) and removes stale ones.
    public func apply(_ changes: OutputChanges) throws {
        for file in changes.written {
            let path = absolute(file.path)
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(file.contents.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        }
        for path in changes.stale {
            try FileManager.default.removeItem(atPath: absolute(path))
        }
    }

    /// A unified diff of what `generate` would do, for `check`.
    public func diff(_ changes: OutputChanges) -> String {
        var output = ""
        for file in changes.written {
            let old = FileManager.default.contents(atPath: absolute(file.path)).map { String(decoding: $0, as: UTF8.self) }
            output += UnifiedDiff.render(old: old ?? "", new: file.contents,
                                         oldPath: old == nil ? "/dev/null" : "a/\(file.path)", newPath: "b/\(file.path)")
        }
        for path in changes.stale {
            let old = FileManager.default.contents(atPath: absolute(path)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            output += UnifiedDiff.render(old: old, new: "", oldPath: "a/\(path)", newPath: "/dev/null")
        }
        return output
    }

    // MARK: Files

    func absolute(_ relative: String) -> String { (root as NSString).appendingPathComponent(relative) }

    /// Files under a directory, relative to the root, skipping hidden ones.
    func listFiles(under directory: String) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: absolute(directory)) else { return [] }
        var files: [String] = []
        while let item = enumerator.nextObject() as? String {
            let full = absolute("\(directory)/\(item)")
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue,
               !(item as NSString).lastPathComponent.hasPrefix(".") {
                files.append("\(directory)/\(item)")
            }
        }
        return files
    }
}
