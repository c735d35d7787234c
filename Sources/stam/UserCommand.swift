import APISupport
import ArgumentParser
import Database
import Foundation
import Generated
import Logging
import Persistence
import PostgresNIO
import StamCore

/// `stam user add`: creates an operator (the first admin of a new install), password from a file or stdin.
struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage operators.", subcommands: [Add.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an operator; the password is read from --password-file or the first line of stdin.")

        @Option(help: "Login name.") var login: String
        @Option(help: "Role: \(OperatorRole.allCases.map(\.rawValue).joined(separator: ", ")).") var role: String = "operator"
        @Option(help: "Name shown in the console (default: the login).") var displayName: String?
        @Option(help: "A file holding the password (else stdin).") var passwordFile: String?
        @OptionGroup var databaseOptions: DatabaseOptions

        func run() async throws {
            let logger = Logger(label: "stam.user")
            guard let role = OperatorRole(rawValue: role) else {
                throw ValidationError("unknown role '\(self.role)'; one of: \(OperatorRole.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let password = try passwordFile.map { try SecretFiles.read($0) } ?? readLine(strippingNewline: true) ?? ""
            if let problem = PasswordHasher.problem(with: password) { throw ValidationError("the password \(problem)") }
            let database = try databaseOptions.configuration()
            let secrets = try SecretBox(keyFile: SecretFiles.path("encryption_key"))
            let hash = try await PasswordHasher.hash(password)
            let client = database.makeClient(backgroundLogger: logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await client.run() }
                defer { group.cancelAll() }
                let repositories = Repositories(context: DatabaseContext(client: client, secrets: secrets, logger: logger))
                let created = try await repositories.operators.insert(
                    Operator(login: login, displayName: displayName ?? login, passwordHash: Secret(hash), role: role, passwordChangedAt: Date()))
                print("created operator \(created.login) (\(created.role.rawValue)), id \(created.id.uuidString.lowercased())")
            }
        }
    }
}
