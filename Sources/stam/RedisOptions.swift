import ArgumentParser
import Foundation
import Redis

/// `--redis-url`, as every command that uses Redis takes it: the option, else `$REDIS_URL`; the password is the
/// `redis_password` secret when the file exists.
struct RedisOptions: ParsableArguments {
    @Option(help: "redis://host:port/db (default: $REDIS_URL).")
    var redisURL: String?

    func configuration() throws -> RedisConfiguration {
        guard let url = redisURL ?? ProcessInfo.processInfo.environment["REDIS_URL"] else {
            throw ValidationError("no Redis: pass --redis-url or set REDIS_URL")
        }
        return try RedisConfiguration(url: url, password: try SecretFiles.existing("redis_password").map { try SecretFiles.read($0) })
    }
}
