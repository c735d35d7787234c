import ArgumentParser
import Foundation
import Messaging

/// `--amqp-url`, as every command that uses RabbitMQ takes it: the option, else `$RABBITMQ_URL`. The URL names the
/// user; the password is the file `$RABBITMQ_PASSWORD_FILE` (the deployment mounts each service's own user's) or
/// the `rabbitmq_password` secret (the local stack's single user); `$RABBITMQ_TOPOLOGY` is `verify` where the
/// broker loaded the topology itself and the user may not declare it (the deployment), `declare` otherwise.
struct BrokerOptions: ParsableArguments {
    @Option(help: "amqp://user@host:port/vhost (default: $RABBITMQ_URL).")
    var amqpURL: String?

    func configuration() throws -> AMQPConfiguration {
        guard let configuration = try configurationIfGiven() else {
            throw ValidationError("no broker: pass --amqp-url or set RABBITMQ_URL")
        }
        return configuration
    }

    /// nil when neither the option nor the variable names a broker (the worker then runs without its command queue).
    func configurationIfGiven() throws -> AMQPConfiguration? {
        let environment = ProcessInfo.processInfo.environment
        guard let url = amqpURL ?? environment["RABBITMQ_URL"] else { return nil }
        let passwordFile = environment["RABBITMQ_PASSWORD_FILE"] ?? SecretFiles.path("rabbitmq_password")
        var configuration = try AMQPConfiguration(url: url, password: try SecretFiles.read(passwordFile))
        if let mode = environment["RABBITMQ_TOPOLOGY"] {
            guard let topology = AMQPConfiguration.TopologyMode(rawValue: mode) else {
                let modes = AMQPConfiguration.TopologyMode.allCases.map(\.rawValue).joined(separator: ", ")
                throw ValidationError("RABBITMQ_TOPOLOGY is '\(mode)'; expected one of: \(modes)")
            }
            configuration.topology = topology
        }
        return configuration
    }
}
