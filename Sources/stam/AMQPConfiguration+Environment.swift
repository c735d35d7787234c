import ArgumentParser
import Database
import Foundation
import Messaging

extension AMQPConfiguration {
    /// The broker as a stam process reaches it: `url` names the user; the password is the file
    /// `$RABBITMQ_PASSWORD_FILE` (the deployment mounts each service's own user's) or the `rabbitmq_password`
    /// secret (the local stack's single user); `$RABBITMQ_TOPOLOGY` is `verify` where the broker loaded the
    /// topology itself and the user may not declare it (the deployment), `declare` otherwise.
    static func fromEnvironment(url: String) throws -> AMQPConfiguration {
        let environment = ProcessInfo.processInfo.environment
        let passwordFile = environment["RABBITMQ_PASSWORD_FILE"] ?? SecretFiles.path("rabbitmq_password")
        var configuration = try AMQPConfiguration(url: url, password: try DatabaseConfiguration.readSecret(passwordFile))
        if let mode = environment["RABBITMQ_TOPOLOGY"] {
            guard let topology = TopologyMode(rawValue: mode) else {
                throw ValidationError("RABBITMQ_TOPOLOGY is '\(mode)'; expected one of: \(TopologyMode.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            configuration.topology = topology
        }
        return configuration
    }
}
