import Foundation
import Mustache

/// The text shapes of the deployment files: `deploy/templates/*.mustache`, loaded with the schema so a
/// broken template is reported like a schema error (file:line:col) and nothing is written. Templates only
/// lay text out; renderers build sorted view models in Swift and choose every value.
///
/// Every template starts with `{{% CONTENT_TYPE: TEXT}}` (nothing is HTML-escaped) or, for JSON files,
/// `{{% CONTENT_TYPE: JSON}}` (values are escaped as JSON string contents).
public struct DeploymentTemplates: Sendable {
    public static let directory = "deploy/templates"

    let library: MustacheLibrary
    public let names: [String]

    init(library: MustacheLibrary, names: [String]) {
        self.library = library
        self.names = names
    }

    /// Loads every template under `root/deploy/templates`; reports parse errors and missing templates.
    /// Without that directory there is nothing to render: no templates and no error.
    public static func load(root: String, required: [String] = DeploymentRenderer.templateNames) -> (DeploymentTemplates?, DiagnosticList) {
        registerContentTypes()
        var diagnostics = DiagnosticList()
        let directory = (root as NSString).appendingPathComponent(Self.directory)
        // A project without deploy/templates (a schema-only test project) renders no deployment.
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            return (nil, diagnostics)
        }
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".mustache") }.sorted()
        var library = MustacheLibrary()
        var names: [String] = []
        for file in files {
            let name = String(file.dropLast(".mustache".count))
            let relative = "\(Self.directory)/\(file)"
            guard let data = FileManager.default.contents(atPath: "\(directory)/\(file)") else {
                diagnostics.error("cannot read the template", at: SourceLocation(file: relative, line: 1, column: 1))
                continue
            }
            do {
                library.register(try MustacheTemplate(string: String(decoding: data, as: UTF8.self)), named: name)
                names.append(name)
            } catch let error as MustacheTemplate.ParserError {
                diagnostics.error("invalid template: \(error.error)",
                                  at: SourceLocation(file: relative, line: error.context.lineNumber, column: max(1, error.context.columnNumber)))
            } catch {
                diagnostics.error("invalid template: \(error)", at: SourceLocation(file: relative, line: 1, column: 1))
            }
        }
        for name in required where !names.contains(name) && !files.contains("\(name).mustache") {
            diagnostics.error("missing template \(Self.directory)/\(name).mustache, which the deployment renderers need",
                              at: SourceLocation(file: SchemaFile.deployment.path, line: 1, column: 1))
        }
        return (diagnostics.hasErrors ? nil : DeploymentTemplates(library: library, names: names), diagnostics)
    }

    /// Renders a template that `load` checked exists.
    func render(_ name: String, _ view: Any) -> String {
        guard let text = library.render(view, withTemplate: name) else {
            preconditionFailure("template \(name) was not loaded; DeploymentRenderer.templateNames must list it")
        }
        return text
    }

    private static let registration: Void = {
        MustacheContentTypes.register(JSONStringContentType(), named: "JSON")
    }()

    static func registerContentTypes() { _ = registration }
}

/// `{{value}}` in a JSON template: the contents of a JSON string (quotes, backslashes, control characters escaped).
struct JSONStringContentType: MustacheContentType {
    func escapeText(_ text: String) -> String { TemplateValues.jsonStringContents(text) }
}
