import Foundation
import Generated
import GeneratorCore
import DevStack
import Logging
import Messaging
import Testing
import TestSupport
import Yams

/// RabbitMQ and Redis with the generated configuration. RabbitMQ is the generated prod service on the container
/// engine: its entrypoint writes one user per client from the secrets, the broker imports the generated topology,
/// and each user can do what its service needs and nothing else. Redis runs
/// the generated redis.conf (both environments) as a process here.
@Suite(.integration, .tags(.integration)) struct RabbitMQAndRedisTests {
    @Test func rabbitMQLoadsTheGeneratedDefinitionsAndOneUserPerClientWithOnlyItsRights() async throws {
        let services = try await GeneratedServices.make("rabbitmq")
        defer { services.remove() }
        try await services.up(["rabbitmq"])
        func ctl(_ arguments: [String]) async throws -> String {
            let (status, output) = try await services.exec("rabbitmq", ["rabbitmqctl", "-q"] + arguments)
            guard status == 0 else { throw ToolError(description: "rabbitmqctl \(arguments.joined(separator: " ")) (exit \(status)): \(output)") }
            return output
        }
        func lines(_ arguments: [String]) async throws -> [String] {
            try await ctl(arguments).split(separator: "\n").map(String.init)
        }

        let schema = try StamGenerator(root: DeploymentTools.root).loadSchema().schema
        let vhost = try #require(schema.deployment.rabbitmq?.vhost)
        let expectedQueues = schema.queues.filter { !$0.perInstance }
        try await services.waitUntil("RabbitMQ imported the definitions", timeout: .seconds(120), log: "rabbitmq") {
            try await lines(["list_queues", "--no-table-headers", "-p", vhost, "name"]).count == expectedQueues.count
        }
        // The health check passes in the image, and it is the one that writes the quorum-queue registry to disk:
        // services waiting for a healthy broker start after the queues it declared are safe from a kill
        // (MessagingBrokerKillTests.aQuorumQueueKilledBeforeItsRegistrationIsSavedLosesEveryConfirmedMessage).
        let (health, healthOutput) = try await ContainerEngine.status(ContainerEngine.podman, ["healthcheck", "run", services.project.container("rabbitmq")])
        #expect(health == 0, "\(healthOutput)")
        let compose = try #require(try Yams.load(yaml: DeploymentTools.read("docker-compose.prod.yml")) as? [String: Any])
        let healthCheck = ((compose["services"] as? [String: Any])?["rabbitmq"] as? [String: Any])?["healthcheck"] as? [String: Any]
        #expect((healthCheck?["test"] as? [String])?.last?.contains(RabbitMQServer.registrySync) == true, "\(String(describing: healthCheck))")

        // The users file the entrypoint wrote from the secret: the broker's own, readable by it alone.
        let (_, mode) = try await services.exec("rabbitmq", ["stat", "-c", "%a %U", "/etc/rabbitmq/definitions/20-users.json"])
        #expect(mode == "600 rabbitmq")

        #expect(try await lines(["list_vhosts", "--no-table-headers", "name"]).contains(vhost))
        let exchanges = Set(try await lines(["list_exchanges", "--no-table-headers", "-p", vhost, "name", "type"]))
        for exchange in schema.exchanges { #expect(exchanges.contains("\(exchange.name)\t\(exchange.kind.rawValue)"), "\(exchange.name)") }
        let queues = try await lines(["list_queues", "--no-table-headers", "-p", vhost, "name", "type", "durable"])
        #expect(Set(queues) == Set(expectedQueues.map { "\($0.name)\t\($0.kind.rawValue)\ttrue" }))
        let bindings = Set(try await lines(["list_bindings", "--no-table-headers", "-p", vhost, "source_name", "destination_name", "routing_key"]))
        for queue in expectedQueues {
            for binding in queue.bindings {
                #expect(bindings.contains("\(binding.exchange.value)\t\(queue.name)\t\(binding.routingKey)"), "\(queue.name) <- \(binding.routingKey)")
            }
        }
        let arguments = try await ctl(["list_queues", "--no-table-headers", "-p", vhost, "name", "arguments"])
        #expect(arguments.contains("x-delivery-limit"), "\(arguments)")
        // Issue 18 point 9: every queue with a `limit:` is bounded by its policy, and refuses more when full.
        let policies = Set(try await lines(["list_queues", "--no-table-headers", "-p", vhost, "name", "policy"]))
        let limited = expectedQueues.filter { $0.limit != nil }
        #expect(!limited.isEmpty)
        for queue in limited { #expect(policies.contains("\(queue.name)\tstam-limit-\(queue.name)"), "\(policies)") }
        let definitions = try await ctl(["list_policies", "--no-table-headers", "-p", vhost])
        #expect(definitions.contains(#""overflow":"reject-publish""#), "\(definitions)")
        // Each user logs in with its secret's password, and only with it.
        let settings = try #require(schema.deployment.rabbitmq)
        let permissions = try await ctl(["list_permissions", "--no-table-headers", "-p", vhost])
        for user in settings.users {
            let password = try #require(services.secrets[user.password.value]?.trimmingCharacters(in: .whitespacesAndNewlines))
            _ = try await ctl(["authenticate_user", user.name, password])
            await #expect(throws: (any Error).self) { try await ctl(["authenticate_user", user.name, "not-\(password)"]) }
            let rights = RabbitMQPermissions(user: user, queues: schema.queues)
            #expect(permissions.contains("\(user.name)\t\(rights.configure)\t\(rights.write)\t\(rights.read)"), "\(permissions)")
        }
        #expect(!permissions.contains(".*"), "nobody has every right: \(permissions)")

        // What the rights allow, tried with stam's own client as each service uses it (the topology only checked).
        let logger = Logger(label: "test.rabbitmq-users")
        func configuration(_ user: String, topology: AMQPConfiguration.TopologyMode = .verify) async throws -> AMQPConfiguration {
            try await services.amqpConfiguration(user: user, topology: topology)
        }
        func publishes(_ user: String, to exchange: String, topology: AMQPConfiguration.TopologyMode = .verify) async throws -> Bool {
            let publisher = Publisher(configuration: try await configuration(user, topology: topology), topology: StamTopology.messaging, logger: logger)
            defer { Task { await publisher.close() } }
            let message = OutgoingMessage(exchange: exchange, routingKey: "test.permissions", messageId: UUID().uuidString, type: "Test",
                                          timestamp: Date(), body: Array("{}".utf8))
            do { return try await publisher.publish([message], confirmTimeout: 10).isEmpty } catch { return false }
        }
        func consumes(_ user: String, from queue: String, instance: String? = nil) async throws -> Bool {
            let consumer = QueueConsumer(configuration: try await configuration(user), topology: StamTopology.messaging, queue: queue,
                                         instance: instance, logger: logger)
            defer { Task { await consumer.close() } }
            do { _ = try await consumer.nextBatch(limit: 1, timeout: 0.2); return true } catch { return false }
        }
        #expect(try await publishes("relay", to: "events"))
        #expect(try await publishes("relay", to: "commands"))
        #expect(try await !publishes("relay", to: "dead_letter"))
        #expect(try await !consumes("relay", from: "sms.inbox"))
        #expect(try await publishes("sms-agent", to: "events"))
        #expect(try await !publishes("sms-agent", to: "commands"))
        #expect(try await consumes("worker", from: "worker.commands"))
        #expect(try await !consumes("worker", from: "sms.inbox"))
        #expect(try await !publishes("worker", to: "events"))
        #expect(try await consumes("backend", from: "backend.live", instance: "backend-test"))
        #expect(try await consumes("backend", from: "sms.inbox"))
        #expect(try await !consumes("backend", from: "worker.commands"))
        #expect(try await !consumes("backend", from: "dead_letters"))
        #expect(try await !publishes("backend", to: "events"))
        // Declaring the shared topology is a right nobody has, the publisher of events included.
        #expect(try await !publishes("relay", to: "events", topology: .declare))

        // A user of an earlier version (the single "stam" with every right) does not survive the next start of the
        // broker: definitions only add users, the entrypoint deletes those the schema does not declare.
        _ = try await ctl(["add_user", "stam", "old-password"])
        _ = try await ctl(["set_permissions", "-p", vhost, "stam", ".*", ".*", ".*"])
        // Through compose (the engine's API): a container restarted by a podman child of this process would inherit
        // its output pipe, and reading the output would never end.
        _ = try await services.project.compose(["restart", "-t", "30", "rabbitmq"])
        try await services.waitUntil("the undeclared user is deleted", timeout: .seconds(120), log: "rabbitmq") {
            let users = try await lines(["list_users", "--no-table-headers"]).map { String($0.split(separator: "\t").first ?? "") }
            return !users.contains("stam") && Set(settings.users.map(\.name)).isSubset(of: Set(users))
        }
        #expect(await services.logs("rabbitmq").contains("deleted RabbitMQ user 'stam'"))
    }

    @Test(arguments: ["prod", "dev"]) func redisRunsTheGeneratedConfiguration(environment: String) async throws {
        _ = try DeploymentTools.tool("/usr/bin/redis-server")
        _ = try DeploymentTools.tool("/usr/bin/redis-cli")
        let directory = try DeploymentTools.temporaryDirectory("redis")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let password = "redis-\(UUID().uuidString.prefix(12))"
        let server = RedisServer(directory: directory, port: try FreePort.find(), password: password)
        defer { server.stop() }
        // Redis changes into `dir` while it reads the file, and /data exists only in the container: that
        // line is the one left out (the command line gives the directory instead).
        let configuration = try DeploymentTools.read("redis/redis.\(environment).conf").split(separator: "\n")
            .filter { !$0.hasPrefix("dir ") }.joined(separator: "\n")
        try await server.start(configuration: configuration)
        if let process = server.process { DeploymentTools.record(process.pid, in: directory) }

        let schema = try StamGenerator(root: DeploymentTools.root).loadSchema().schema
        let settings = try #require(schema.deployment.redis)
        func config(_ name: String) throws -> String {
            try server.cli(["--no-raw", "CONFIG", "GET", name]).split(separator: "\n").dropFirst().first.map {
                String($0).replacingOccurrences(of: "2) ", with: "").trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
            } ?? ""
        }
        let maxmemory = try #require(settings.maxmemory.value(in: environment)).lowercased()
        let megabytes = Int(maxmemory.dropLast(2))!
        #expect(try config("maxmemory") == String(megabytes * 1024 * 1024))
        // The lease store neither evicts nor delays its fsync (issue 18 point 9).
        #expect(try config("maxmemory-policy") == "noeviction")
        #expect(try config("appendonly") == "yes")
        #expect(try config("appendfsync") == "always")
        #expect(settings.appendfsync.value == .always)
        #expect(try config("save") == settings.save.joined(separator: " "))
        // AUTH is required, and the password given on the command line does not stay visible in ps.
        let anonymous = try DeploymentTools.status("/usr/bin/redis-cli", ["-h", "127.0.0.1", "-p", String(server.port), "PING"])
        #expect(anonymous.1.contains("NOAUTH"))
        let pid = try #require(server.process?.pid)
        let commandLine = String(decoding: try Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline")), as: UTF8.self)
        #expect(!commandLine.contains(password), "\(commandLine)")
        #expect(try server.cli(["SET", "k", "v"]).contains("OK"))
    }
}
