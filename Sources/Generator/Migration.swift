import ArgumentParser
import Foundation
import GeneratorCore

struct Migration: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Versioned SQL migrations.", subcommands: [New.self])

    struct New: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the next migration: the difference between the last migration's snapshot and the schema.")

        @OptionGroup var project: ProjectOptions

        @Argument(help: "Name in lower snake_case, e.g. add_zone_masks.")
        var name: String

        @Flag(help: "Allow dropping tables or columns and narrowing types; each such step is marked in the file.")
        var allowDestructive = false

        func run() throws {
            let generator = try project.generator()
            let loaded = try loadOrExit(generator)
            do {
                let files = try generator.newMigration(named: name, schema: loaded.schema, allowDestructive: allowDestructive)
                try generator.apply(StamGenerator.OutputChanges(written: files))
                for file in files { print("wrote \(file.path)") }
            } catch let error as StamGenerator.MigrationError {
                printError(error.description)
                throw ExitCode.failure
            } catch let error as CustomStringConvertible & Error {
                printError(error.description)
                throw ExitCode.failure
            }
        }
    }
}
