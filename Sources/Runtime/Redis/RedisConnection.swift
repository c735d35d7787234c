import CHiredis
import Foundation

/// One blocking hiredis connection: connect, AUTH, SELECT, then commands and pipelines. It is not `Sendable`
/// on purpose: hiredis contexts are not thread-safe and every call blocks, so a connection lives on one
/// `OwnerThread` (see `RedisClient`, `RedisSubscriber`). After any I/O error or timeout the context is
/// unusable (a late reply would be read as the answer to the next command), and owners drop it.
public final class RedisConnection {
    private let context: UnsafeMutablePointer<redisContext>
    public let configuration: RedisConfiguration

    public init(configuration: RedisConfiguration) throws {
        self.configuration = configuration
        guard let context = redisConnectWithTimeout(configuration.host, Int32(configuration.port),
                                                    Self.socketTimeout(configuration.connectTimeout)) else {
            throw RedisError(code: .connect, message: "cannot allocate a hiredis context")
        }
        if context.pointee.err != 0 {
            let reason = Self.errorText(context)
            redisFree(context)
            throw RedisError(code: .connect, message: "cannot connect to \(configuration.redactedURL): \(reason)")
        }
        self.context = context
        // The socket timeout bounds every blocking read and write, so a hung server fails a command after
        // `commandTimeout` instead of holding the owner thread forever.
        redisSetTimeout(context, Self.socketTimeout(configuration.commandTimeout))
        _ = redisEnableKeepAlive(context)
        if let password = configuration.password {
            if case .error(let message) = try command(["AUTH", password]) {
                throw RedisError(code: .authentication, message: "Redis at \(configuration.redactedURL) refused the password",
                                 serverMessage: message)
            }
        }
        // PING proves the handshake (a server with requirepass answers NOAUTH here when we sent no password).
        if case .error(let message) = try command(["PING"]) {
            throw RedisError(code: message.hasPrefix("NOAUTH") ? .authentication : .server,
                             message: "Redis at \(configuration.redactedURL) refused the connection", serverMessage: message)
        }
        if configuration.database != 0, case .error(let message) = try command(["SELECT", String(configuration.database)]) {
            throw RedisError(code: .server, message: "cannot select database \(configuration.database)", serverMessage: message)
        }
    }

    deinit {
        redisFree(context)
    }

    /// The socket, for `poll` by a subscriber that waits for pushes.
    var fileDescriptor: Int32 { context.pointee.fd }

    /// Sends one command and waits for its reply. An error reply is returned as `.error`, not thrown.
    public func command(_ arguments: [String]) throws -> RedisValue {
        try command(arguments.map { Array($0.utf8) })
    }

    public func command(_ arguments: [[UInt8]]) throws -> RedisValue {
        let reply = Self.withArgv(arguments) { argc, argv, lengths in
            redisCommandArgv(context, argc, argv, lengths)
        }
        guard let reply else { throw failure() }
        defer { freeReplyObject(reply) }
        return Self.decode(reply.assumingMemoryBound(to: redisReply.self).pointee)
    }

    /// Sends all commands, then reads all replies: one round trip for the batch.
    public func pipeline(_ commands: [[String]]) throws -> [RedisValue] {
        for arguments in commands {
            let status = Self.withArgv(arguments.map { Array($0.utf8) }) { argc, argv, lengths in
                redisAppendCommandArgv(context, argc, argv, lengths)
            }
            guard status == REDIS_OK else { throw failure() }
        }
        return try commands.map { _ in try nextReply() }
    }

    /// Waits for the next reply (a pipelined answer, or a pub/sub push) for at most the command timeout.
    public func nextReply() throws -> RedisValue {
        var reply: UnsafeMutableRawPointer?
        guard redisGetReply(context, &reply) == REDIS_OK, let reply else { throw failure() }
        defer { freeReplyObject(reply) }
        return Self.decode(reply.assumingMemoryBound(to: redisReply.self).pointee)
    }

    /// A reply already read from the socket and buffered, without blocking.
    func bufferedReply() throws -> RedisValue? {
        var reply: UnsafeMutableRawPointer?
        guard redisGetReplyFromReader(context, &reply) == REDIS_OK else { throw failure() }
        guard let reply else { return nil }
        defer { freeReplyObject(reply) }
        return Self.decode(reply.assumingMemoryBound(to: redisReply.self).pointee)
    }

    /// Sends a command without reading a reply (SUBSCRIBE confirmations arrive as pushes).
    func send(_ arguments: [String]) throws {
        let status = Self.withArgv(arguments.map { Array($0.utf8) }) { argc, argv, lengths in
            redisAppendCommandArgv(context, argc, argv, lengths)
        }
        guard status == REDIS_OK else { throw failure() }
        var done: Int32 = 0
        while done == 0 {
            guard redisBufferWrite(context, &done) == REDIS_OK else { throw failure() }
        }
    }

    /// What the context's error flags mean; hiredis sets them on the failed call, and errno still holds the
    /// socket's reason (EAGAIN when the socket timeout ran out).
    private func failure() -> RedisError {
        let socketErrno = errno
        let text = Self.errorText(context)
        switch context.pointee.err {
        case REDIS_ERR_IO where socketErrno == EAGAIN || socketErrno == EWOULDBLOCK:
            return RedisError(code: .timeout, message: "no reply from \(configuration.redactedURL) within \(configuration.commandTimeout)")
        case REDIS_ERR_IO:
            return RedisError(code: .io, message: "\(configuration.redactedURL): \(text)")
        case REDIS_ERR_EOF:
            return RedisError(code: .closed, message: "\(configuration.redactedURL) closed the connection")
        default:
            return RedisError(code: .protocolError, message: "\(configuration.redactedURL): \(text)")
        }
    }

    private static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    static func decode(_ reply: redisReply) -> RedisValue {
        switch reply.type {
        case REDIS_REPLY_STRING:
            return .bulk(reply.len == 0 ? [] : Array(UnsafeRawBufferPointer(start: reply.str, count: reply.len)))
        case REDIS_REPLY_STATUS:
            return .status(String(decoding: UnsafeRawBufferPointer(start: reply.str, count: reply.len), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            return .error(String(decoding: UnsafeRawBufferPointer(start: reply.str, count: reply.len), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            return .integer(Int64(reply.integer))
        case REDIS_REPLY_ARRAY:
            return .array((0..<reply.elements).map { index in
                reply.element[index].map { decode($0.pointee) } ?? .null
            })
        default:
            return .null
        }
    }

    /// Calls `body` with hiredis's argv form: C strings with explicit lengths, so values may hold any bytes.
    private static func withArgv<Result>(
        _ arguments: [[UInt8]],
        _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> Result
    ) -> Result {
        let buffers = arguments.map { bytes -> UnsafeMutablePointer<CChar> in
            let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: max(1, bytes.count))
            bytes.withUnsafeBytes { source in
                UnsafeMutableRawPointer(buffer).copyMemory(from: source.baseAddress ?? UnsafeRawPointer(buffer), byteCount: bytes.count)
            }
            return buffer
        }
        defer { buffers.forEach { $0.deallocate() } }
        var pointers = buffers.map { UnsafePointer<CChar>?(UnsafePointer($0)) }
        let lengths = arguments.map(\.count)
        return pointers.withUnsafeMutableBufferPointer { argv in
            lengths.withUnsafeBufferPointer { lengths in
                body(Int32(arguments.count), argv.baseAddress!, lengths.baseAddress!)
            }
        }
    }

    static func socketTimeout(_ duration: Duration) -> timeval {
        let (seconds, attoseconds) = duration.components
        return timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }
}
