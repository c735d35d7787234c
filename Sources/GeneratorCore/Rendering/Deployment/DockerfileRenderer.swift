/// The Dockerfiles of the images built here, at the path each image declares, from
/// `deploy/templates/Dockerfile.<template>.mustache`, when that path is under deploy/generated/ (a
/// Dockerfile elsewhere is hand-written and left alone). The build context is the project root.
///
/// stam images: a multi-stage build (the Swift toolchain image builds `stam` in release mode with the
/// Swift runtime linked statically), a slim Debian runtime with only what `stam` and its health check
/// need, and the non-root user `stam` (uid 10001), which owns the secret files (`stam secrets init`).
struct DockerfileRenderer: DeploymentComponentRenderer {
    static let templateNames = ImageDeclaration.Template.allCases.map { "Dockerfile.\($0.rawValue)" }
    static let stamUID = 10001
    static let swiftImage = "swift:6.3-bookworm"
    static let runtimeImage = "debian:bookworm-slim"
    /// The Patroni the image installs; scripts/install-python-tools.sh installs the same for the tests.
    static let patroniVersion = "4.1.5"

    let schema: Schema
    let templates: DeploymentTemplates

    struct View {
        var image: String
        var doc: String
        var ports: String?
        var defaultCommand: String
        var swiftImage: String
        var runtimeImage: String
        var uid: Int
        var patroniVersion: String
        var entrypoint: String
        var postBootstrap: String
        var callback: String
    }

    func render() -> [GeneratedFile] {
        schema.deployment.images.compactMap { image in
            guard let path = image.dockerfile, path.hasPrefix(DeploymentRenderer.outputDirectory + "/") else { return nil }
            let relative = String(path.dropFirst(DeploymentRenderer.outputDirectory.count + 1))
            return DeploymentRenderer.hashFile(relative, templates.render("Dockerfile.\(image.template.rawValue)", view(of: image)))
        }
    }

    func wire(into wiring: inout ComposeWiring) {}

    func view(of image: ImageDeclaration) -> View {
        let services = schema.deployment.services.filter { $0.image.value == image.name }
        let ports = Array(Set(services.flatMap { $0.ports.map(\.number) })).sorted()
        // The image's CMD is its long-running service's command, not a one-shot job's (migrate) that shares the image.
        let command = services.filter { $0.restart != .no }.lazy.compactMap { service in
            service.command.flatMap { $0.value(in: "prod") ?? $0.common ?? $0.overrides.values.first }
        }.first ?? ["stam", "--help"]
        return View(
            image: image.name, doc: image.doc ?? "", ports: ports.isEmpty ? nil : ports.map(String.init).joined(separator: " "),
            defaultCommand: TemplateValues.flowList(command), swiftImage: Self.swiftImage, runtimeImage: Self.runtimeImage,
            uid: Self.stamUID, patroniVersion: Self.patroniVersion, entrypoint: PatroniRenderer.entrypoint,
            postBootstrap: PatroniRenderer.postBootstrap, callback: PatroniRenderer.callback)
    }
}
