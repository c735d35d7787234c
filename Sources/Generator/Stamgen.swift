import ArgumentParser
import Foundation
import GeneratorCore

/// `stamgen`: generates the Swift models, migrations and deployment files of stam from `schema/*.yaml`.
@main
struct Stamgen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stamgen",
        abstract: "Generate stam's code, migrations and deployment from schema/*.yaml.",
        subcommands: [Generate.self, Check.self, Migration.self, Explain.self])
}

/// Options every subcommand shares.
struct ProjectOptions: ParsableArguments {
    @Option(name: .long, help: "Project root (the directory holding schema/). Default: found from the current directory upwards.")
    var root: String?

    func generator() throws -> StamGenerator {
        if let root { return StamGenerator(root: root) }
        var directory = FileManager.default.currentDirectoryPath
        while true {
            if FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent("schema/entities.yaml")) {
                return StamGenerator(root: directory)
            }
            let parent = (directory as NSString).deletingLastPathComponent
            if parent == directory || parent.isEmpty {
                throw ValidationError("no schema/entities.yaml in the current directory or above; pass --root")
            }
            directory = parent
        }
    }
}

/// Loads the schema, printing every diagnostic; exits 1 when there is an error.
func loadOrExit(_ generator: StamGenerator) throws -> StamGenerator.LoadedSchema {
    do {
        let loaded = try generator.loadSchema()
        for warning in loaded.warnings { printError(warning.description) }
        return loaded
    } catch {
        for diagnostic in error.sorted { printError(diagnostic.description) }
        printError("stamgen: \(error.errors.count) error\(error.errors.count == 1 ? "" : "s"); nothing was written")
        throw ExitCode.failure
    }
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
