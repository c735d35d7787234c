import Database
import Foundation
import DevStack
import Logging
import PostgresNIO
import Secrets
import StamCore
import Testing
import TestSupport

/// TLS to PostgreSQL as the deployment uses it (`?sslmode=verify-full&sslrootcert=<CA>` in a service's URL),
/// against a real PostgreSQL 15 that, as the Patroni nodes do, takes the application role over TLS only
/// (`hostssl`), with a certificate from the same generator `stam secrets init` uses.
@Suite(.integration, .tags(.integration)) struct PostgresTLSTests {
    let logger = Logger(label: "test.postgres-tls")

    @Test func verifyFullChecksTheCAAndTheHostNameAndPlainConnectionsAreRefused() async throws {
        let root = "\(RunDirectory.tests)/tls-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let secrets = SecretsInitializer(specifications: [
            SecretSpecification(name: "ca", file: "tls/ca", kind: .tlsCA),
            SecretSpecification(name: "certificate", file: "tls/certificate", kind: .tlsCertificate(key: "key", ca: "ca", names: ["localhost"])),
            SecretSpecification(name: "key", file: "tls/key", kind: .tlsPrivateKey),
            SecretSpecification(name: "stranger", file: "tls/stranger", kind: .tlsCA),
        ])
        // PostgreSQL reads its key only when the postgres user owns it and nobody else may read it.
        guard let account = getpwnam("postgres") else { throw LocalProcess.LaunchError(description: "no postgres user") }
        _ = try secrets.run(root: root, owner: .init(uid: account.pointee.pw_uid, gid: account.pointee.pw_gid), onlyMissing: false)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: root)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: "\(root)/tls")
        let server = PostgresServer(
            directory: "\(root)/server", port: try FreePort.find(),
            settings: ["ssl": "on", "ssl_cert_file": "\(root)/tls/certificate", "ssl_key_file": "\(root)/tls/key"],
            hostRules: ["hostssl all all 127.0.0.1/32 scram-sha-256", "host all all all reject"])
        try await server.start()
        defer { server.stop() }
        let password = "tls-\(UUID().uuidString.prefix(8))"
        try server.ensureDatabase("stam", owner: "app", password: password)
        let passwordFile = "\(root)/password"
        try password.write(toFile: passwordFile, atomically: true, encoding: .utf8)

        /// Whether a connection opens, and then whether PostgreSQL says it is encrypted.
        func connection(_ url: String) async throws -> Bool? {
            let configuration = try DatabaseConfiguration(url: url, passwordFile: passwordFile)
            guard let connection = try? await PostgresConnection.connect(configuration: configuration.connectionConfiguration, id: 1, logger: logger) else {
                return nil
            }
            defer { Task { try? await connection.close() } }
            let rows = try await connection.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", logger: logger).collect()
            return try rows.first?.decode(Bool.self)
        }
        let ca = "\(root)/tls/ca"
        #expect(try await connection("postgresql://app@localhost:\(server.port)/stam?sslmode=verify-full&sslrootcert=\(ca)") == true)
        // The certificate names localhost, not the address; verify-ca does not ask for the name.
        #expect(try await connection("postgresql://app@127.0.0.1:\(server.port)/stam?sslmode=verify-full&sslrootcert=\(ca)") == nil)
        #expect(try await connection("postgresql://app@127.0.0.1:\(server.port)/stam?sslmode=verify-ca&sslrootcert=\(ca)") == true)
        // A server whose certificate another CA signed is not the database, whatever its name.
        #expect(try await connection("postgresql://app@localhost:\(server.port)/stam?sslmode=verify-full&sslrootcert=\(root)/tls/stranger") == nil)
        // hostssl: without TLS the role is refused; `require` encrypts without checking.
        #expect(try await connection("postgresql://app@localhost:\(server.port)/stam") == nil)
        #expect(try await connection("postgresql://app@localhost:\(server.port)/stam?sslmode=require") == true)

        // The pool the services use takes the same settings.
        let pooled = try DatabaseConfiguration(url: "postgresql://app@localhost:\(server.port)/stam?sslmode=verify-full&sslrootcert=\(ca)",
                                               passwordFile: passwordFile)
        let client = PostgresClient(configuration: pooled.clientConfiguration, backgroundLogger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            let rows = try await client.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", logger: logger).collect()
            #expect(try rows.first?.decode(Bool.self) == true)
        }
        #expect(pooled.redactedURL == "postgresql://app@localhost:\(server.port)/stam?sslmode=verify-full")
    }

    @Test func badTLSParametersAreRefusedWhenTheURLIsRead() {
        for (url, words) in [
            ("postgresql://app@db/stam?sslmode=maybe", "sslmode must be one of disable, require, verify-ca, verify-full"),
            ("postgresql://app@db/stam?sslmode=verify-full", "needs sslrootcert"),
            ("postgresql://app@db/stam?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem", "/nonexistent/ca.pem"),
            ("postgresql://app@db/stam?sslcert=/x", "unknown parameter 'sslcert'"),
        ] {
            #expect {
                _ = try DatabaseConfiguration(url: url, passwordFile: nil)
            } throws: { "\($0)".contains(words) }
        }
    }
}
