import Foundation

/// Where the broker is: `amqp://user@host:port/vhost`, with the password from a secret file.
public struct AMQPConfiguration: Sendable, Hashable {
    public var host: String
    public var port: Int
    public var virtualHost: String
    public var username: String
    public var password: String
    /// Both sides send heartbeats at this interval; a silent peer is dead after two.
    public var heartbeatSeconds: Int
    /// TCP connect and the AMQP handshake (login), each.
    public var connectTimeoutSeconds: Int
    /// What a connection does with the shared topology when it opens (see `TopologyMode`).
    public var topology: TopologyMode = .declare

    /// `declare`: the connection declares the exchanges and shared queues (idempotently), as the local stack and
    /// the tests need, where nothing else does. `verify`: it only checks that they exist (passive declares, which
    /// need no right), because the broker loaded them from the generated definitions and the user may not
    /// configure them; a consumer still declares and binds its own per-instance queue.
    public enum TopologyMode: String, Sendable, Hashable, CaseIterable {
        case declare, verify
    }

    public init(host: String, port: Int = 5672, virtualHost: String = "/", username: String, password: String,
                heartbeatSeconds: Int = 10, connectTimeoutSeconds: Int = 5) {
        self.host = host
        self.port = port
        self.virtualHost = virtualHost
        self.username = username
        self.password = password
        self.heartbeatSeconds = heartbeatSeconds
        self.connectTimeoutSeconds = connectTimeoutSeconds
    }

    /// How long the broker may take to answer one synchronous method (declare, bind, qos, consume, channel
    /// open and close) and how long sent bytes may stay unacknowledged by the peer's TCP: two heartbeat
    /// intervals, the time after which a silent peer counts as dead anyway. Heartbeats alone do not bound
    /// these waits: a broker that is alive (its heartbeats arrive) can still leave a method unanswered, as
    /// RabbitMQ 3.10 does for `basic.consume` on a quorum queue without a leader (for about a minute, then
    /// it closes the connection, and the next consume waits again).
    public var callTimeoutSeconds: Int { max(5, 2 * heartbeatSeconds) }

    public struct InvalidURL: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    public init(url: String, password: String) throws {
        guard let components = URLComponents(string: url), components.scheme == "amqp", let host = components.host, !host.isEmpty else {
            throw InvalidURL(description: "invalid RabbitMQ URL '\(url)': expected amqp://user@host:port/vhost")
        }
        if components.password != nil {
            throw InvalidURL(description: "invalid RabbitMQ URL: put the password in a secret file, not in the URL")
        }
        let path = String(components.path.drop { $0 == "/" })
        self.init(host: host, port: components.port ?? 5672,
                  virtualHost: path.isEmpty ? "/" : (path.removingPercentEncoding ?? path),
                  username: components.user ?? "guest", password: password)
    }

    public var redactedURL: String { "amqp://\(username)@\(host):\(port)/\(virtualHost)" }
}
