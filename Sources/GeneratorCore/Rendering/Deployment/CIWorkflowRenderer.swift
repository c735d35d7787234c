/// The CI flow of the seed (section 3): on a push to main, build, run the tests (the README's
/// `make test`), then build every image of the schema and push it to the registry; on the server,
/// `deploy/generated/update.sh` migrates, then restarts; `deploy/generated/build-images.sh` builds every image. Also `.dockerignore`, so secrets and build output
/// never enter an image's build context.
struct CIWorkflowRenderer: DeploymentComponentRenderer {
    static let templateNames = ["github-workflow.yml", "dockerignore", "update.sh", "build-images.sh"]
    static let workflowPath = ".github/workflows/images.yml"

    let schema: Schema
    let templates: DeploymentTemplates

    struct Image { var name: String; var dockerfile: String }

    func render() -> [GeneratedFile] {
        let images = schema.deployment.images.compactMap { image in image.dockerfile.map { Image(name: image.name, dockerfile: $0) } }
        guard !images.isEmpty else { return [] }
        let secretDirectories = Array(Set(schema.deployment.secrets.compactMap { $0.file.split(separator: "/").first.map(String.init) })).sorted()
        let header = GeneratedFile.hashHeader(source: DeploymentRenderer.source)
        var files = [
            GeneratedFile(path: Self.workflowPath, contents: header + templates.render("github-workflow.yml", [
                "images": images, "registryVariable": ComposeRenderer.registryVariable,
            ] as [String: Any])),
            GeneratedFile(path: ".dockerignore", contents: header + templates.render("dockerignore", ["secretDirectories": secretDirectories])),
        ]
        files.append(DeploymentRenderer.hashFile("build-images.sh", templates.render("build-images.sh", [
            "images": images, "registryVariable": ComposeRenderer.registryVariable, "tagVariable": ComposeRenderer.tagVariable,
            "projectRoot": ComposeRenderer.projectRoot,
            "registry": TemplateValues.variable(ComposeRenderer.registryVariable, default: "localhost:5000"),
            "tag": TemplateValues.variable(ComposeRenderer.tagVariable, default: "latest"),
        ] as [String: Any])))
        if let prod = schema.deployment.environments.first(where: { $0.name == "prod" }) {
            files.append(DeploymentRenderer.hashFile("update.sh", templates.render("update.sh", [
                "composeFile": "docker-compose.\(prod.name).yml", "registryVariable": ComposeRenderer.registryVariable,
                "tagVariable": ComposeRenderer.tagVariable, "proxyService": schema.deployment.proxy?.service.value ?? "",
            ] as [String: Any])))
        }
        return files
    }

    func wire(into wiring: inout ComposeWiring) {}
}
