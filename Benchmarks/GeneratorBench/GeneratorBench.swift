import Foundation
import GeneratorCore

/// `make bench` (generator part): how long `stamgen generate` takes on the real schema and on a synthetic
/// schema ten times its size, in process (load + validate + render + plan the diff) and as a whole
/// `stamgen generate` process. Prints a markdown table.
@main
struct GeneratorBench {
    static func main() throws {
        let arguments = CommandLine.arguments
        let root = arguments.count > 1 ? arguments[1] : FileManager.default.currentDirectoryPath
        let stamgen = arguments.count > 2 ? arguments[2] : "\(root)/.build/release/stamgen"

        let real = try copyProject(from: root, scale: 1)
        let large = try copyProject(from: root, scale: 10)
        defer {
            try? FileManager.default.removeItem(atPath: real)
            try? FileManager.default.removeItem(atPath: large)
        }
        var rows: [[String]] = []
        for (label, project) in [("real schema", real), ("10x synthetic schema", large)] {
            let generator = StamGenerator(root: project)
            let loaded = try generator.loadSchema()
            let files = generator.render(loaded)
            try generator.apply(generator.changes(for: files))
            try FileManager.default.copyItem(atPath: "\(root)/migrations", toPath: "\(project)/migrations")
            let inProcess = try measure(iterations: 20) {
                let loaded = try generator.loadSchema()
                _ = generator.changes(for: generator.render(loaded))
            }
            let process = try measure(iterations: 5) { try run(stamgen, ["generate", "--root", project]) }
            let entities = loaded.schema.entities.count, events = loaded.schema.events.count
            let lines = files.reduce(0) { $0 + $1.contents.split(separator: "\n").count }
            rows.append([label, "\(entities)", "\(events)", "\(files.count)", "\(lines)",
                         format(inProcess), format(process)])
        }
        print("| schema | entities | events | files | lines | pipeline (median of 20) | `stamgen generate` process (median of 5) |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for row in rows { print("| " + row.joined(separator: " | ") + " |") }
    }

    static func format(_ duration: Duration) -> String {
        let milliseconds = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        return String(format: "%.1f ms", milliseconds)
    }

    static func measure(iterations: Int, _ body: () throws -> Void) throws -> Duration {
        var samples: [Duration] = []
        for _ in 0..<iterations {
            let start = ContinuousClock.now
            try body()
            samples.append(ContinuousClock.now - start)
        }
        return samples.sorted()[samples.count / 2]
    }

    static func run(_ executable: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        // The copies have no migrations, which `generate` mentions on stderr.
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CocoaError(.executableLoad) }
    }

    /// A temporary project with the real schema, its entities and events repeated `scale` times under
    /// new names (`Site` -> `Site2`, with references renamed to match).
    static func copyProject(from root: String, scale: Int) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("stam-bench-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: "\(directory)/schema", withIntermediateDirectories: true)
        let generator = StamGenerator(root: root)
        let schema = try generator.loadSchema().schema
        // Entity copies refer to each other; event copies keep the original aggregates (their payloads name
        // `panel_id`, `alarm_id`, ...), so only the event names change.
        let namesByFile: [SchemaFile: [String]] = [.entities: schema.entities.map(\.name), .events: schema.events.map(\.name)]
        for file in SchemaFile.allCases {
            var text = try String(contentsOfFile: "\(root)/\(file.path)", encoding: .utf8)
            if scale > 1, let marker = ["entities:\n", "events:\n"].first(where: { text.contains($0) && (file == .entities || file == .events) }) {
                let parts = text.components(separatedBy: marker)
                let body = parts[1]
                var copies = body
                for copy in 2...scale {
                    var renamed = body
                    for name in (namesByFile[file] ?? []).sorted(by: { $0.count > $1.count }) {
                        renamed = renamed.replacingOccurrences(
                            of: "\\b\(name)\\b", with: "\(name)\(copy)", options: .regularExpression)
                    }
                    copies += renamed
                }
                text = parts[0] + marker + copies
            }
            try text.write(toFile: "\(directory)/\(file.path)", atomically: true, encoding: .utf8)
        }
        return directory
    }
}
