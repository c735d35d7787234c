import Foundation
import Generated
import DevStack
import Secrets
import StamCore
import Testing
import TestSupport
import Yams

/// `stam secrets init` (SecretsInitializer over the generated StamSecrets): every secret file the compose
/// files name, mode 0600, usable by the tools that read them, never overwritten.
@Suite(.integration, .tags(.integration)) struct SecretsInitTests {
    func freshRoot() throws -> String { try DeploymentTools.temporaryDirectory("secrets") }

    @Test func createsEverySecretTheComposeFilesNameWithMode0600() throws {
        let root = try freshRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let owner: SecretsInitializer.Ownership? = getuid() == 0 ? .stamImages : nil
        let outcome = try SecretsInitializer(specifications: StamSecrets.all).run(root: root, owner: owner, onlyMissing: false)
        #expect(outcome.kept.isEmpty)
        #expect(Set(outcome.created) == Set(StamSecrets.all.map(\.file)))
        // Every secret either compose file names is a file under the root, where compose looks for it.
        for environment in ["prod", "stage", "dev"] {
            let compose = try #require(try Yams.load(yaml: DeploymentTools.read("docker-compose.\(environment).yml")) as? [String: Any])
            for (name, entry) in compose["secrets"] as? [String: [String: String]] ?? [:] {
                let file = try #require(entry["file"], "\(name)")
                let relative = file.replacingOccurrences(of: "${STAM_SECRETS_DIR:-../../secrets}", with: "secrets")
                    .replacingOccurrences(of: "${STAM_CERTS_DIR:-../../certs}", with: "certs")
                let attributes = try FileManager.default.attributesOfItem(atPath: "\(root)/\(relative)")
                #expect(attributes[.posixPermissions] as? Int == 0o600, "\(relative)")
                if let owner { #expect((attributes[.ownerAccountID] as? NSNumber)?.uint32Value == owner.uid, "\(relative)") }
            }
        }
        func read(_ name: String) throws -> String {
            let file = try #require(StamSecrets.all.first { $0.name == name }).file
            return try String(contentsOfFile: "\(root)/\(file)", encoding: .utf8)
        }
        // Passwords: 32 letters and digits, all different.
        let passwords = StamSecrets.all.filter { $0.kind == .password }
        #expect(passwords.count >= 5)
        let values = try passwords.map { try read($0.name) }
        #expect(values.allSatisfy { $0.count == 32 && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } })
        #expect(Set(values).count == values.count)
        #expect(Data(base64Encoded: try read("encryption_key"))?.count == 32)
        #expect(try read("modem_sim_pin").isEmpty)

        // The key pair and the certificates, checked by openssl.
        let openssl = try DeploymentTools.tool("/usr/bin/openssl")
        let secrets = "\(root)/secrets"
        #expect(try read("jwt_private_key").hasPrefix("-----BEGIN PRIVATE KEY-----"))
        let derived = try LocalProcess.run(openssl, ["pkey", "-in", "\(secrets)/jwt_private_key", "-pubout"])
        #expect(derived == (try read("jwt_public_key")))
        #expect(try LocalProcess.run(openssl, ["rsa", "-in", "\(secrets)/jwt_private_key", "-noout", "-text"]).contains("2048 bit"))
        let verify = try DeploymentTools.status(openssl, ["verify", "-CAfile", "\(secrets)/postgres_tls_ca", "-purpose", "sslserver",
                                                          "\(secrets)/postgres_tls_certificate"])
        #expect(verify.0 == 0, "\(verify.1)")
        for host in ["pg-primary", "pg-replica"] {
            let check = try DeploymentTools.status(openssl, ["x509", "-in", "\(secrets)/postgres_tls_certificate", "-noout", "-checkhost", host])
            #expect(check.1.contains("does match"), "\(host): \(check.1)")
        }
        let certificateKey = try LocalProcess.run(openssl, ["x509", "-in", "\(secrets)/postgres_tls_certificate", "-noout", "-pubkey"])
        let keyKey = try LocalProcess.run(openssl, ["pkey", "-in", "\(secrets)/postgres_tls_private_key", "-pubout"])
        #expect(certificateKey == keyKey)
        let nginx = try DeploymentTools.status(openssl, ["verify", "-CAfile", "\(root)/certs/server.crt", "\(root)/certs/server.crt"])
        #expect(nginx.0 == 0, "the nginx placeholder is self-signed: \(nginx.1)")
    }

    /// redis_exporter reads REDIS_PASSWORD_FILE as a JSON map of Redis URI to password: the file the prod
    /// compose file gives it maps the exporter's REDIS_ADDR to the password in redis_password.
    @Test func writesTheRedisExporterPasswordMapWithRedisPassword() throws {
        let root = try freshRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let initializer = SecretsInitializer(specifications: StamSecrets.all)
        _ = try initializer.run(root: root, owner: nil, onlyMissing: false)
        let compose = try #require(try Yams.load(yaml: DeploymentTools.read("docker-compose.prod.yml")) as? [String: Any])
        let exporter = try #require((compose["services"] as? [String: [String: Any]])?["redis-exporter"])
        let environment = try #require(exporter["environment"] as? [String: String])
        let address = try #require(environment["REDIS_ADDR"])
        let secretName = try #require(environment["REDIS_PASSWORD_FILE"]?.replacingOccurrences(of: "/run/secrets/", with: ""))
        #expect(exporter["secrets"] as? [String] == [secretName])
        let specification = try #require(StamSecrets.all.first { $0.name == secretName })
        #expect(specification.kind == .passwordMap(of: "redis_password", names: [address]))

        let mapFile = "\(root)/\(specification.file)"
        let password = try String(contentsOfFile: "\(root)/secrets/redis_password", encoding: .utf8)
        let text = try String(contentsOfFile: mapFile, encoding: .utf8)
        #expect(text == "{\"\(address)\":\"\(password)\"}\n")
        #expect(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String] == [address: password])
        #expect(try FileManager.default.attributesOfItem(atPath: mapFile)[.posixPermissions] as? Int == 0o600)

        // A second run keeps it; removed, it is made again from the password that is there.
        let again = try initializer.run(root: root, owner: nil, onlyMissing: true)
        #expect(again.created.isEmpty)
        #expect(again.kept.contains(specification.file))
        #expect(try String(contentsOfFile: mapFile, encoding: .utf8) == text)
        try FileManager.default.removeItem(atPath: mapFile)
        #expect(try initializer.run(root: root, owner: nil, onlyMissing: true).created == [specification.file])
        #expect(try String(contentsOfFile: mapFile, encoding: .utf8) == text)

        // A password written by hand with a trailing newline is mapped without it.
        let other = try freshRoot()
        defer { try? FileManager.default.removeItem(atPath: other) }
        let only = SecretsInitializer(specifications: StamSecrets.all.filter { [secretName, "redis_password"].contains($0.name) })
        try FileManager.default.createDirectory(atPath: "\(other)/secrets", withIntermediateDirectories: true)
        try "hand-made\n".write(toFile: "\(other)/secrets/redis_password", atomically: true, encoding: .utf8)
        #expect(try only.run(root: other, owner: nil, onlyMissing: true).created == [specification.file])
        #expect(try String(contentsOfFile: "\(other)/\(specification.file)", encoding: .utf8) == "{\"\(address)\":\"hand-made\"}\n")
    }

    @Test func refusesToOverwriteAndFillsInOnlyWhatIsMissing() throws {
        let root = try freshRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let initializer = SecretsInitializer(specifications: StamSecrets.all)
        _ = try initializer.run(root: root, owner: nil, onlyMissing: false)
        let before = try StamSecrets.all.map { try Data(contentsOf: URL(fileURLWithPath: "\(root)/\($0.file)")) }
        #expect(throws: SecretsInitializer.Failure.self) { try initializer.run(root: root, owner: nil, onlyMissing: false) }
        #expect(try StamSecrets.all.map { try Data(contentsOf: URL(fileURLWithPath: "\(root)/\($0.file)")) } == before)

        // Only the public key is gone: it is derived again from the private key that is there.
        let publicKey = "\(root)/secrets/jwt_public_key"
        let old = try String(contentsOfFile: publicKey, encoding: .utf8)
        try FileManager.default.removeItem(atPath: publicKey)
        let outcome = try initializer.run(root: root, owner: nil, onlyMissing: true)
        #expect(outcome.created == ["secrets/jwt_public_key"])
        #expect(try String(contentsOfFile: publicKey, encoding: .utf8) == old)

        // A certificate whose CA key was not kept cannot be issued again: the run says what to do.
        try FileManager.default.removeItem(atPath: "\(root)/secrets/postgres_tls_certificate")
        try FileManager.default.removeItem(atPath: "\(root)/secrets/postgres_tls_private_key")
        #expect(throws: SecretsInitializer.Failure.self) { try initializer.run(root: root, owner: nil, onlyMissing: true) }
    }
}
