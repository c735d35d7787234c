import Foundation
@testable import GeneratorCore

/// Small schemas for tests: load YAML text the way `stamgen` loads files.
enum SchemaSnippet {
    static func load(entities: String = "", events: String = "", queues: String = "", deployment: String = "") throws(DiagnosticList) -> StamGenerator.LoadedSchema {
        try StamGenerator.load(sources: [.entities: entities, .events: events, .queues: queues, .deployment: deployment])
    }

    /// The diagnostics (errors and warnings) as printed, for a schema expected to fail.
    static func errors(entities: String = "", events: String = "", queues: String = "", deployment: String = "") -> [String] {
        do {
            _ = try load(entities: entities, events: events, queues: queues, deployment: deployment)
            return []
        } catch {
            return error.errors.map(\.description)
        }
    }

    /// The project root, found from this file (Tests/GeneratorCoreTests/SchemaSnippet.swift).
    static var projectRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    /// A throw-away project directory holding the given schema files.
    static func temporaryProject(entities: String, events: String = "", queues: String = "", deployment: String = "") throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("stamgen-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: "\(root)/schema", withIntermediateDirectories: true)
        try write(root: root, entities: entities, events: events, queues: queues, deployment: deployment)
        return root
    }

    static func write(root: String, entities: String, events: String = "", queues: String = "", deployment: String = "") throws {
        for (file, text) in [(SchemaFile.entities, entities), (.events, events), (.queues, queues), (.deployment, deployment)] {
            try text.write(toFile: "\(root)/\(file.path)", atomically: true, encoding: .utf8)
        }
    }
}
