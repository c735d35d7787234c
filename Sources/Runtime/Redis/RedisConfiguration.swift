import Foundation

/// Where Redis is: `redis://host:port/db`, with the password from a secret file (the `redis_password`
/// secret), never in the URL, the same convention as `AMQPConfiguration`.
public struct RedisConfiguration: Sendable, Hashable {
    public var host: String
    public var port: Int
    /// AUTH password; nil when the server has no `requirepass`.
    public var password: String?
    /// SELECT index, 0...15 on a default server.
    public var database: Int
    public var connectTimeout: Duration
    /// How long one command may wait for its reply. A lease renewal that waits longer than this gives up,
    /// so keep it well below the lease TTL.
    public var commandTimeout: Duration
    /// After a failed connect the client waits this long before it tries again, doubling per failure up to
    /// `maximumReconnectDelay`; calls in between fail at once with the last connect error.
    public var initialReconnectDelay: Duration
    public var maximumReconnectDelay: Duration

    public init(host: String = "127.0.0.1", port: Int = 6379, password: String? = nil, database: Int = 0,
                connectTimeout: Duration = .seconds(2), commandTimeout: Duration = .seconds(2),
                initialReconnectDelay: Duration = .milliseconds(50), maximumReconnectDelay: Duration = .seconds(2)) {
        self.host = host
        self.port = port
        self.password = password
        self.database = database
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.initialReconnectDelay = initialReconnectDelay
        self.maximumReconnectDelay = maximumReconnectDelay
    }

    public struct InvalidURL: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Parses `redis://host[:port][/db]`; the password comes separately (the caller reads the secret file).
    public init(url: String, password: String?) throws {
        guard let components = URLComponents(string: url), components.scheme == "redis",
              let host = components.host, !host.isEmpty else {
            throw InvalidURL(description: "invalid Redis URL '\(url)': expected redis://host:port/db")
        }
        if components.password != nil {
            throw InvalidURL(description: "invalid Redis URL: put the password in a secret file, not in the URL")
        }
        let path = String(components.path.drop { $0 == "/" })
        guard path.isEmpty || Int(path) != nil else {
            throw InvalidURL(description: "invalid Redis URL '\(url)': the path must be a database number")
        }
        self.init(host: host, port: components.port ?? 6379, password: password, database: Int(path) ?? 0)
    }

    public var redactedURL: String { "redis://\(host):\(port)/\(database)" }
}
