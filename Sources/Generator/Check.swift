import ArgumentParser
import GeneratorCore

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fail when generated outputs are stale or a schema change has no migration.",
        discussion: "Prints a unified diff of every stale file. Run by `make test` and CI.")

    @OptionGroup var project: ProjectOptions

    func run() throws {
        let generator = try project.generator()
        let loaded = try loadOrExit(generator)
        let changes = generator.changes(for: generator.render(loaded))
        var failed = false
        if !changes.isEmpty {
            print(generator.diff(changes), terminator: "")
            printError("stamgen check: \(changes.written.count + changes.stale.count) generated file(s) are stale; run `stamgen generate` and commit the result")
            failed = true
        }
        let problems = generator.migrationProblems(for: loaded.schema)
        for problem in problems { printError(problem) }
        if !problems.isEmpty { failed = true }
        if failed { throw ExitCode.failure }
        print("stamgen check: \(changes.unchangedCount) generated files current, migrations cover the schema")
    }
}
