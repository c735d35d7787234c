import ArgumentParser
import Foundation
import GeneratorCore

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write the generated outputs (only files that changed).")

    @OptionGroup var project: ProjectOptions

    func run() throws {
        let generator = try project.generator()
        let start = ContinuousClock.now
        let loaded = try loadOrExit(generator)
        let changes = generator.changes(for: generator.render(loaded))
        try generator.apply(changes)
        for file in changes.written { print("wrote \(file.path)") }
        for path in changes.stale { print("removed \(path)") }
        let elapsed = ContinuousClock.now - start
        print("stamgen: \(changes.written.count) written, \(changes.stale.count) removed, \(changes.unchangedCount) unchanged in \(elapsed.formatted(.units(allowed: [.milliseconds])))")
        // Generating never writes migrations; say when one is due, briefly (`check` gives the details).
        if !generator.migrationProblems(for: loaded.schema).isEmpty {
            printError("stamgen: note: the database schema changed; run `stamgen migration new <name>` (see `stamgen check`)")
        }
    }
}
