/// A Lua script run with EVALSHA. The client loads it with SCRIPT LOAD once per connection (a restarted
/// server has an empty script cache) and falls back to loading again on NOSCRIPT.
public struct RedisScript: Sendable, Hashable {
    public let source: String

    public init(_ source: String) {
        self.source = source
    }
}
