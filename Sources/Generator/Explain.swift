import ArgumentParser
import GeneratorCore

struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the resolved model: tables, events, queues, services per environment.")

    @OptionGroup var project: ProjectOptions

    func run() throws {
        let generator = try project.generator()
        let loaded = try loadOrExit(generator)
        print(SchemaExplainer.explain(loaded.schema), terminator: "")
    }
}
