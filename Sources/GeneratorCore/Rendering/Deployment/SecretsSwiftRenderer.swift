/// `Sources/Generated/Deployment/StamSecrets.swift`: every secret of the deployment with its file and
/// kind, for `stam secrets init` (the generated code depends only on StamCore's `SecretSpecification`).
struct SecretsSwiftRenderer: DeploymentComponentRenderer {
    static let path = "\(SwiftModelRenderer.outputDirectory)/Deployment/StamSecrets.swift"

    let schema: Schema

    func render() -> [GeneratedFile] {
        var writer = SwiftWriter()
        writer.line("import StamCore")
        writer.line()
        writer.doc("The secret files of the deployment, in the order of schema/deployment.yaml; `stam secrets init` creates them.")
        writer.block("public enum StamSecrets") { writer in
            writer.line("public static let all: [SecretSpecification] = [")
            for secret in schema.deployment.secrets {
                writer.line("    SecretSpecification(name: \(SwiftNames.literal(secret.name)), file: \(SwiftNames.literal(secret.file)), kind: \(kind(secret.generator))),")
            }
            writer.line("]")
            writer.line()
            writer.doc("The key file of `stam snapshot` for each environment that takes an anonymised copy of production (`snapshot_key:`).")
            let keys = schema.deployment.environments.compactMap { environment in
                environment.snapshotKey.flatMap { schema.deployment.secret(named: $0.value) }.map { (environment.name, $0.file) }
            }
            writer.line("public static let snapshotKeys: [String: String] = [" + (keys.isEmpty ? ":" : keys.map { "\(SwiftNames.literal($0.0)): \(SwiftNames.literal($0.1))" }.joined(separator: ", ")) + "]")
        }
        return [GeneratedFile(path: Self.path, contents: GeneratedFile.swiftHeader(source: SchemaFile.deployment.path) + writer.text)]
    }

    func wire(into wiring: inout ComposeWiring) {}

    private func kind(_ generator: SecretDeclaration.Generator) -> String {
        switch generator {
        case .password: ".password"
        case .passwordMap(let of, let names):
            ".passwordMap(of: \(SwiftNames.literal(of.value)), names: [\(names.map(SwiftNames.literal).joined(separator: ", "))])"
        case .randomKey: ".randomKey"
        case .rsaPrivateKey: ".rsaPrivateKey"
        case .rsaPublicKey(let of): ".rsaPublicKey(of: \(SwiftNames.literal(of.value)))"
        case .tlsCA: ".tlsCA"
        case .tlsCertificate(let key, let ca, let names):
            ".tlsCertificate(key: \(SwiftNames.literal(key.value)), ca: \(ca.map { SwiftNames.literal($0.value) } ?? "nil"), names: [\(names.map(SwiftNames.literal).joined(separator: ", "))])"
        case .tlsPrivateKey: ".tlsPrivateKey"
        case .provided: ".provided"
        }
    }
}
