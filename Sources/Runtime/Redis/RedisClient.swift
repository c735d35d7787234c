import Foundation
import Logging
import StamCore

/// The async face of one Redis connection. Calls from any task are queued to the client's own thread
/// (hiredis blocks), run one at a time in call order, and answered through continuations.
///
/// Reconnecting: a call that finds the connection broken fails with the error; the next call connects again,
/// unless it comes within the reconnect backoff, in which case it fails at once with the last connect error.
/// Commands are never retried here: the caller knows whether a command is safe to repeat (a lease
/// acquisition is; an INCR whose reply was lost may have happened).
public final class RedisClient: Sendable {
    public let configuration: RedisConfiguration
    private let thread: OwnerThread
    private let slot: RedisConnectionSlot

    public init(configuration: RedisConfiguration, logger: Logger, name: String = "redis") {
        self.configuration = configuration
        let slot = RedisConnectionSlot(configuration: configuration, logger: logger)
        self.slot = slot
        thread = OwnerThread(name: name, idleInterval: 60,
                             shutDownError: { RedisError(code: .disconnected, message: "the Redis client was closed") })
    }

    /// Connects now instead of on the first command.
    public func connect() async throws {
        let slot = self.slot
        try await thread.run { _ = try slot.connected() }
    }

    /// Closes the connection and ends the thread; later calls fail with `.disconnected`.
    public func close() async {
        let slot = self.slot
        _ = try? await thread.run { slot.close() }
        thread.shutdown()
    }

    // MARK: Raw commands

    /// Sends one command; a server error reply comes back as `.error` rather than being thrown.
    public func send(_ arguments: [String]) async throws -> RedisValue {
        let slot = self.slot
        return try await thread.run { try slot.with { try $0.command(arguments) } }
    }

    public func send(_ arguments: String...) async throws -> RedisValue {
        try await send(arguments)
    }

    /// Sends one command and throws a server error reply as `RedisError.server`.
    @discardableResult
    public func execute(_ arguments: [String]) async throws -> RedisValue {
        let reply = try await send(arguments)
        if case .error(let message) = reply {
            throw RedisError(code: .server, message: "\(arguments.first ?? "") failed", serverMessage: message)
        }
        return reply
    }

    /// Sends the commands in one round trip and returns their replies in order (error replies included).
    public func pipeline(_ commands: [[String]]) async throws -> [RedisValue] {
        guard !commands.isEmpty else { return [] }
        let slot = self.slot
        return try await thread.run { try slot.with { try $0.pipeline(commands) } }
    }

    /// Runs a Lua script (EVALSHA, loading it when the server does not have it).
    public func evaluate(_ script: RedisScript, keys: [String], arguments: [String]) async throws -> RedisValue {
        let slot = self.slot
        let reply = try await thread.run { try slot.evaluate(script, keys: keys, arguments: arguments) }
        if case .error(let message) = reply {
            throw RedisError(code: .server, message: "script failed", serverMessage: message)
        }
        return reply
    }

    // MARK: Typed commands

    public func ping() async throws {
        try await expect(execute(["PING"]), "PING") { $0 == .status("PONG") }
    }

    public func get(_ key: String) async throws -> [UInt8]? {
        switch try await execute(["GET", key]) {
        case .bulk(let bytes): return bytes
        case .null: return nil
        case let other: throw Self.unexpected(other, "GET")
        }
    }

    public func getString(_ key: String) async throws -> String? {
        try await get(key).map { String(decoding: $0, as: UTF8.self) }
    }

    /// SET with the options the project uses. Returns false when `onlyIfAbsent` and the key existed.
    @discardableResult
    public func set(_ key: String, _ value: String, onlyIfAbsent: Bool = false, expiresIn: Duration? = nil) async throws -> Bool {
        var arguments = ["SET", key, value]
        if onlyIfAbsent { arguments.append("NX") }
        if let expiresIn { arguments += ["PX", String(Self.milliseconds(expiresIn))] }
        switch try await execute(arguments) {
        case .status("OK"): return true
        case .null: return false
        case let other: throw Self.unexpected(other, "SET")
        }
    }

    /// Deletes keys; returns how many existed.
    @discardableResult
    public func delete(_ keys: [String]) async throws -> Int {
        guard !keys.isEmpty else { return 0 }
        return try await integer(["DEL"] + keys)
    }

    @discardableResult
    public func delete(_ keys: String...) async throws -> Int { try await delete(keys) }

    public func increment(_ key: String) async throws -> Int64 {
        Int64(try await integer(["INCR", key]))
    }

    /// EXPIRE in whole seconds (rounded up); returns false when the key does not exist.
    @discardableResult
    public func expire(_ key: String, after duration: Duration) async throws -> Bool {
        let seconds = (Self.milliseconds(duration) + 999) / 1000
        return try await integer(["EXPIRE", key, String(seconds)]) == 1
    }

    /// Remaining time to live in milliseconds; nil when the key is missing or has no expiry.
    public func timeToLive(_ key: String) async throws -> Int64? {
        let value = try await integer(["PTTL", key])
        return value >= 0 ? Int64(value) : nil
    }

    /// HSET; returns the number of fields that were new.
    @discardableResult
    public func hashSet(_ key: String, _ fields: [(String, String)]) async throws -> Int {
        guard !fields.isEmpty else { return 0 }
        return try await integer(["HSET", key] + fields.flatMap { [$0.0, $0.1] })
    }

    public func hashGetAll(_ key: String) async throws -> [String: String] {
        let reply = try await execute(["HGETALL", key])
        guard let elements = reply.array, elements.count.isMultiple(of: 2) else { throw Self.unexpected(reply, "HGETALL") }
        var result: [String: String] = [:]
        for index in stride(from: 0, to: elements.count, by: 2) {
            guard let field = elements[index].string, let value = elements[index + 1].string else {
                throw Self.unexpected(reply, "HGETALL")
            }
            result[field] = value
        }
        return result
    }

    @discardableResult
    public func hashDelete(_ key: String, _ fields: [String]) async throws -> Int {
        guard !fields.isEmpty else { return 0 }
        return try await integer(["HDEL", key] + fields)
    }

    /// PUBLISH; returns the number of subscribers that received the message.
    @discardableResult
    public func publish(_ message: String, to channel: String) async throws -> Int {
        try await integer(["PUBLISH", channel, message])
    }

    /// Keys matching a glob pattern, by SCAN (never KEYS, which blocks the server).
    public func scanKeys(matching pattern: String) async throws -> [String] {
        var cursor = "0"
        var keys: [String] = []
        repeat {
            let reply = try await execute(["SCAN", cursor, "MATCH", pattern, "COUNT", "1000"])
            guard let parts = reply.array, parts.count == 2, let next = parts[0].string, let batch = parts[1].array else {
                throw Self.unexpected(reply, "SCAN")
            }
            keys += batch.compactMap(\.string)
            cursor = next
        } while cursor != "0"
        return keys
    }

    /// Empties every database of the server: for tests.
    public func flushAll() async throws {
        try await expect(execute(["FLUSHALL"]), "FLUSHALL") { $0 == .status("OK") }
    }

    // MARK: Test hooks

    /// While blackholed every call fails with `.timeout` as if the server stopped answering, without
    /// closing the socket: how tests cut one client off while the server keeps serving the others.
    func setBlackholed(_ blackholed: Bool) async throws {
        let slot = self.slot
        try await thread.run { slot.blackholed = blackholed }
    }

    // MARK: Helpers

    private func integer(_ arguments: [String]) async throws -> Int {
        let reply = try await execute(arguments)
        guard case .integer(let value) = reply else { throw Self.unexpected(reply, arguments[0]) }
        return Int(value)
    }

    private func expect(_ reply: RedisValue, _ command: String, _ isExpected: (RedisValue) -> Bool) throws {
        guard isExpected(reply) else { throw Self.unexpected(reply, command) }
    }

    static func unexpected(_ reply: RedisValue, _ command: String) -> RedisError {
        RedisError(code: .unexpectedReply, message: "unexpected reply to \(command): \(reply)")
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
