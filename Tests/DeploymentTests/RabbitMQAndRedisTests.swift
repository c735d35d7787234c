import Foundation
import GeneratorCore
import LocalStack
import Testing

/// RabbitMQ and Redis with the generated configuration. RabbitMQ is the generated prod service on the container
/// engine: its entrypoint writes the user from the secret, the broker imports the generated topology. Redis runs
/// the generated redis.conf (both environments) as a process here.
@Suite struct RabbitMQAndRedisTests {
    @Test func rabbitMQLoadsTheGeneratedDefinitionsAndTheUserFromTheSecret() async throws {
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
        // The application user logs in with the secret's password, and only with it.
        let user = try #require(schema.deployment.rabbitmq?.user)
        let password = try #require(services.secrets["rabbitmq_password"]?.trimmingCharacters(in: .whitespacesAndNewlines))
        _ = try await ctl(["authenticate_user", user, password])
        await #expect(throws: (any Error).self) { try await ctl(["authenticate_user", user, "not-\(password)"]) }
        #expect(try await ctl(["list_permissions", "--no-table-headers", "-p", vhost]).contains("\(user)\t.*\t.*\t.*"))
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
        #expect(try config("maxmemory-policy") == "allkeys-lru")
        #expect(try config("appendonly") == "yes")
        #expect(try config("appendfsync") == settings.appendfsync.rawValue)
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
