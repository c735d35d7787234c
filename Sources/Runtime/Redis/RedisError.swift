/// A failure talking to Redis. `code` says what kind, so callers branch on it rather than on text;
/// `serverMessage` is the server's error reply (`WRONGPASS ...`, `NOSCRIPT ...`) when there was one.
public struct RedisError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// TCP connect failed or timed out.
        case connect
        /// AUTH was refused (wrong or missing password).
        case authentication
        /// A read or write on an established connection failed; the connection is gone.
        case io
        /// No reply within the command timeout; the connection is dropped (a late reply would desync it).
        case timeout
        /// The server closed the connection.
        case closed
        /// The server answered with an error reply.
        case server
        /// The reply had a type the command never returns (a bug or a protocol mismatch).
        case unexpectedReply = "unexpected_reply"
        /// The client was shut down, or is waiting out its reconnect backoff.
        case disconnected
        /// hiredis reported a protocol or allocation error.
        case protocolError = "protocol"
    }

    public var code: Code
    public var message: String
    public var serverMessage: String?

    public init(code: Code, message: String, serverMessage: String? = nil) {
        self.code = code
        self.message = message
        self.serverMessage = serverMessage
    }

    /// Whether the connection that produced this error cannot be used again.
    public var dropsConnection: Bool {
        switch code {
        case .server, .unexpectedReply: false
        default: true
        }
    }

    public var description: String {
        "redis \(code.rawValue): \(message)" + (serverMessage.map { " (\($0))" } ?? "")
    }
}
