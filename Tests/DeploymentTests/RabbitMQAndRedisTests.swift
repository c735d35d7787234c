import Foundation
import GeneratorCore
import LocalStack
import Testing

/// RabbitMQ and Redis with the generated configuration: RabbitMQ imports the generated topology and the
/// user its entrypoint writes from the secret; Redis runs the generated redis.conf.
@Suite struct RabbitMQAndRedisTests {
    @Test func rabbitMQLoadsTheGeneratedDefinitionsAndTheUserFromTheSecret() async throws {
        _ = try DeploymentTools.tool("/usr/lib/rabbitmq/bin/rabbitmq-server")
        let directory = try DeploymentTools.temporaryDirectory("rabbitmq")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let password = "rabbit-\(UUID().uuidString.prefix(12))"

        // The entrypoint, in a container whose /etc/rabbitmq is ours; the official image's
        // docker-entrypoint.sh is replaced by a stand-in that records its arguments.
        let etc = "\(directory)/etc-rabbitmq"
        let bin = "\(directory)/bin"
        for path in [etc, bin] { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        try DeploymentTools.read("rabbitmq/entrypoint.sh").write(toFile: "\(bin)/stam-rabbitmq-entrypoint", atomically: true, encoding: .utf8)
        try "#!/bin/sh\necho \"image entrypoint: $*\"\n".write(toFile: "\(bin)/docker-entrypoint.sh", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: "\(bin)/docker-entrypoint.sh")
        let bed = try NamespaceBed(directory: directory, hostNames: ["rabbitmq"])
        defer { bed.stop() }
        let container = try bed.container("rabbitmq", secrets: ["rabbitmq_password": password], binds: [(etc, "/etc/rabbitmq"), (bin, "/usr/local/bin")])
        let output = try bed.run(in: container, ["/bin/sh", "/usr/local/bin/stam-rabbitmq-entrypoint", "rabbitmq-server"],
                                 environment: ["PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"])
        #expect(output.contains("image entrypoint: rabbitmq-server"))
        let users = "\(etc)/definitions/20-users.json"
        let attributes = try FileManager.default.attributesOfItem(atPath: users)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect((attributes[.ownerAccountName] as? String) == "rabbitmq")
        try DeploymentTools.read("rabbitmq/definitions.json").write(toFile: "\(etc)/definitions/10-topology.json", atomically: true, encoding: .utf8)

        // The broker with the generated rabbitmq.conf; only ports and the definitions path are ours.
        let configuration = try DeploymentTools.read("rabbitmq/rabbitmq.prod.conf").split(separator: "\n").compactMap { line -> String? in
            if line.hasPrefix("listeners.tcp.default") { return nil }
            if line.hasPrefix("management.tcp.port") { return "management.tcp.ip = 127.0.0.1\nmanagement.tcp.port = \(try! FreePort.find())" }
            if line.hasPrefix("prometheus.tcp.port") { return "prometheus.tcp.ip = 127.0.0.1\nprometheus.tcp.port = \(try! FreePort.find())" }
            if line.hasPrefix("load_definitions") { return "load_definitions = \(etc)/definitions" }
            return String(line)
        }.joined(separator: "\n")
        let plugins = try DeploymentTools.read("rabbitmq/enabled_plugins")
        let server = try RabbitMQServer(directory: "\(directory)/server", port: try FreePort.find(),
                                        configuration: configuration, enabledPlugins: plugins)
        defer { server.stop() }
        try await server.start()
        for process in [server.process, server.epmd].compactMap({ $0 }) { DeploymentTools.record(process.pid, in: directory) }

        let schema = try StamGenerator(root: DeploymentTools.root).loadSchema().schema
        let vhost = try #require(schema.deployment.rabbitmq?.vhost)
        #expect(try server.ctl(["list_vhosts", "--no-table-headers", "name"]).split(separator: "\n").contains(Substring(vhost)))
        let exchanges = Set(try server.ctl(["list_exchanges", "--no-table-headers", "-p", vhost, "name", "type"]).split(separator: "\n").map(String.init))
        for exchange in schema.exchanges { #expect(exchanges.contains("\(exchange.name)\t\(exchange.kind.rawValue)"), "\(exchange.name)") }
        let queues = try server.ctl(["list_queues", "--no-table-headers", "-p", vhost, "name", "type", "durable"]).split(separator: "\n").map(String.init)
        let expectedQueues = schema.queues.filter { !$0.perInstance }
        #expect(Set(queues) == Set(expectedQueues.map { "\($0.name)\t\($0.kind.rawValue)\ttrue" }))
        let bindings = Set(try server.ctl(["list_bindings", "--no-table-headers", "-p", vhost, "source_name", "destination_name", "routing_key"])
            .split(separator: "\n").map(String.init))
        for queue in expectedQueues {
            for binding in queue.bindings {
                #expect(bindings.contains("\(binding.exchange.value)\t\(queue.name)\t\(binding.routingKey)"), "\(queue.name) <- \(binding.routingKey)")
            }
        }
        let arguments = try server.ctl(["list_queues", "--no-table-headers", "-p", vhost, "name", "arguments"])
        #expect(arguments.contains("x-delivery-limit"), "\(arguments)")
        // The application user logs in with the secret's password, and only with it.
        let user = try #require(schema.deployment.rabbitmq?.user)
        _ = try server.ctl(["authenticate_user", user, password])
        #expect(throws: (any Error).self) { try server.ctl(["authenticate_user", user, "not-\(password)"]) }
        #expect(try server.ctl(["list_permissions", "--no-table-headers", "-p", vhost]).contains("\(user)\t.*\t.*\t.*"))
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
