import Logging

/// The connection a `RedisClient`'s owner thread owns: created on demand, dropped on the first I/O error so
/// the next call reconnects (after the backoff). Only ever touched on that thread.
final class RedisConnectionSlot: @unchecked Sendable {
    let configuration: RedisConfiguration
    let logger: Logger
    private var connection: RedisConnection?
    private var backoff: RedisReconnectBackoff
    private var lastConnectError: RedisError?
    /// SHA1 of each script loaded on the current connection, by source.
    private var scriptHashes: [String: String] = [:]
    /// Test hook: while set, every call fails as if the server did not answer.
    var blackholed = false

    init(configuration: RedisConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        backoff = RedisReconnectBackoff(initial: configuration.initialReconnectDelay,
                                        maximum: configuration.maximumReconnectDelay)
    }

    /// The live connection, connecting when there is none and the backoff allows it. During the backoff the
    /// last connect error is thrown again, so callers see why (a wrong password stays `.authentication`).
    func connected() throws -> RedisConnection {
        if blackholed { throw RedisError(code: .timeout, message: "the connection is blackholed (test hook)") }
        if let connection { return connection }
        let now = ContinuousClock.now
        if !backoff.mayTry(at: now), let lastConnectError { throw lastConnectError }
        do {
            let connection = try RedisConnection(configuration: configuration)
            if backoff.failures > 0 || lastConnectError == nil {
                logger.info("connected to Redis", metadata: ["redis": "\(configuration.redactedURL)"])
            }
            backoff.succeeded()
            lastConnectError = nil
            scriptHashes = [:]
            self.connection = connection
            return connection
        } catch let error as RedisError {
            let delay = backoff.failed(at: now)
            if lastConnectError?.code != error.code {
                logger.warning("cannot connect to Redis", metadata: ["error": "\(error)", "retry_in": "\(delay)"])
            }
            lastConnectError = error
            throw error
        }
    }

    /// Runs `body` on the connection; an error that leaves the connection unusable drops it first.
    func with<Result>(_ body: (RedisConnection) throws -> Result) throws -> Result {
        let connection = try connected()
        do {
            return try body(connection)
        } catch let error as RedisError where error.dropsConnection {
            logger.warning("Redis connection dropped", metadata: ["error": "\(error)"])
            self.connection = nil
            throw error
        }
    }

    /// EVALSHA, loading the script first when this connection has not seen it (or lost it: NOSCRIPT).
    func evaluate(_ script: RedisScript, keys: [String], arguments: [String]) throws -> RedisValue {
        try with { connection in
            for attempt in 0..<2 {
                let hash: String
                if let known = scriptHashes[script.source], attempt == 0 {
                    hash = known
                } else {
                    let loaded = try connection.command(["SCRIPT", "LOAD", script.source])
                    guard let loadedHash = loaded.string, case .bulk = loaded else {
                        throw RedisError(code: .server, message: "SCRIPT LOAD failed", serverMessage: "\(loaded)")
                    }
                    hash = loadedHash
                    scriptHashes[script.source] = hash
                }
                let reply = try connection.command(["EVALSHA", hash, String(keys.count)] + keys + arguments)
                if case .error(let message) = reply, message.hasPrefix("NOSCRIPT") { continue }
                return reply
            }
            throw RedisError(code: .server, message: "the server keeps forgetting a loaded script")
        }
    }

    func close() {
        connection = nil
    }
}
