import ArgumentParser
import Foundation
import Generated
import Secrets

/// `stam secrets init`: every secret file the compose files name, created once (docs/DEPLOYMENT.md).
struct SecretsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secrets",
        abstract: "Manage the deployment's secret files.",
        subcommands: [Init.self])

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init",
            abstract: "Create every secret file of schema/deployment.yaml (mode 0600), never overwriting one.",
            discussion: """
                Passwords and keys are random; the JWT key pair is RSA 2048; the internal CA signs the PostgreSQL
                certificate (its key is not kept); nginx gets a self-signed certificate to replace with the real
                one; the SIM PIN file is left empty for the operator. As root, the files are given to uid:gid
                10001:10001, the user of the stam images, because Docker mounts secret files with the host's
                owner and mode.
                """)

        @Option(help: "Project root: the paths of schema/deployment.yaml (secrets/..., certs/...) are relative to it.")
        var root = "."

        @Option(help: "Owner uid:gid of the new files when run as root.")
        var owner = "10001:10001"

        @Flag(help: "Create only the missing files (deriving public keys and certificates from keys that exist).")
        var onlyMissing = false

        func run() throws {
            var ownership: SecretsInitializer.Ownership?
            if getuid() == 0 {
                guard let parsed = SecretsInitializer.Ownership(owner) else { throw ValidationError("--owner must be uid:gid, found '\(owner)'") }
                ownership = parsed
            }
            let initializer = SecretsInitializer(specifications: StamSecrets.all)
            do {
                let outcome = try initializer.run(root: root, owner: ownership, onlyMissing: onlyMissing)
                for file in outcome.created { print("created \(file)") }
                for file in outcome.kept { print("kept    \(file)") }
                let who = ownership.map { " owned by \($0.uid):\($0.gid)" } ?? ""
                print("stam secrets init: \(outcome.created.count) created (0600\(who)), \(outcome.kept.count) kept")
                if outcome.created.contains(where: { $0.hasPrefix("certs/") }) {
                    print("note: the nginx certificate is self-signed; replace certs/ with the real certificate and key")
                }
            } catch let failure as SecretsInitializer.Failure {
                FileHandle.standardError.write(Data("stam secrets init: \(failure.description)\n".utf8))
                throw ExitCode.failure
            }
        }
    }
}
