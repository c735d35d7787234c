import Foundation
import DevStack
import Logging
@testable import Redis
import Testing
import TestSupport

/// The hiredis client against a real redis-server: commands, errors, outages.
@Suite(.redis, .serialized, .integration, .tags(.integration)) struct RedisClientTests {
    @Test func commandsRoundTrip() async throws {
        let redis = try #require(TestRedis.current)
        let client = redis.client()
        defer { Task { await client.close() } }
        let ns = TestRedis.namespace()

        try await client.ping()
        #expect(try await client.set("\(ns)a", "one"))
        #expect(try await client.getString("\(ns)a") == "one")
        #expect(try await client.set("\(ns)a", "two", onlyIfAbsent: true) == false)
        #expect(try await client.getString("\(ns)a") == "one")
        #expect(try await client.set("\(ns)b", "x", onlyIfAbsent: true, expiresIn: .seconds(30)))
        let ttl = try #require(try await client.timeToLive("\(ns)b"))
        #expect(ttl > 0 && ttl <= 30_000)
        #expect(try await client.getString("\(ns)missing") == nil)

        // Values travel with explicit lengths: NUL bytes and non-ASCII text survive.
        let binary = "a\u{0}b\u{0}ż"
        try await client.set("\(ns)bin", binary)
        #expect(try await client.get("\(ns)bin") == Array(binary.utf8))

        #expect(try await client.increment("\(ns)n") == 1)
        #expect(try await client.increment("\(ns)n") == 2)
        #expect(try await client.expire("\(ns)n", after: .seconds(10)))
        #expect(try await client.expire("\(ns)missing", after: .seconds(10)) == false)
        #expect(try await client.delete("\(ns)a", "\(ns)b", "\(ns)missing") == 2)

        #expect(try await client.hashSet("\(ns)h", [("zone", "3"), ("state", "armed")]) == 2)
        #expect(try await client.hashSet("\(ns)h", [("state", "disarmed")]) == 0)
        #expect(try await client.hashGetAll("\(ns)h") == ["zone": "3", "state": "disarmed"])
        #expect(try await client.hashDelete("\(ns)h", ["zone", "nope"]) == 1)
        #expect(try await client.hashGetAll("\(ns)h") == ["state": "disarmed"])
        #expect(try await client.hashGetAll("\(ns)missing") == [:])

        let replies = try await client.pipeline([["SET", "\(ns)p", "1"], ["INCR", "\(ns)p"], ["HGETALL", "\(ns)p"], ["GET", "\(ns)p"]])
        #expect(replies[0] == .status("OK"))
        #expect(replies[1] == .integer(2))
        guard case .error(let wrongType) = replies[2] else { Issue.record("expected WRONGTYPE, got \(replies[2])"); return }
        #expect(wrongType.hasPrefix("WRONGTYPE"))
        #expect(replies[3] == .bulk(Array("2".utf8)))

        let array = try await client.evaluate(RedisScript("return {1, 'two', redis.call('GET', KEYS[1]), false}"),
                                              keys: ["\(ns)p"], arguments: [])
        #expect(array == .array([.integer(1), .bulk(Array("two".utf8)), .bulk(Array("2".utf8)), .null]))

        await #expect { try await client.execute(["HSET", "\(ns)p", "f", "v"]) } throws: { error in
            (error as? RedisError)?.code == .server && (error as? RedisError)?.serverMessage?.hasPrefix("WRONGTYPE") == true
        }
        // The error reply did not cost the connection.
        try await client.ping()
        #expect(try await client.publish("hello", to: "\(ns)channel") == 0)
    }

    @Test func flushAllEmptiesTheServer() async throws {
        let client = try #require(TestRedis.current).client()
        defer { Task { await client.close() } }
        try await client.set("flush-me", "1")
        try await client.flushAll()
        #expect(try await client.getString("flush-me") == nil)
    }

    @Test func scriptsSurviveAFlushedScriptCache() async throws {
        let client = try #require(TestRedis.current).client()
        defer { Task { await client.close() } }
        let script = RedisScript("return ARGV[1] .. '!'")
        #expect(try await client.evaluate(script, keys: [], arguments: ["a"]).string == "a!")
        try await client.execute(["SCRIPT", "FLUSH"])
        // The client still holds the hash; EVALSHA answers NOSCRIPT and the client loads the script again.
        #expect(try await client.evaluate(script, keys: [], arguments: ["b"]).string == "b!")
    }

    @Test func wrongOrMissingPasswordIsAnAuthenticationError() async throws {
        let redis = try #require(TestRedis.current)
        let wrong = redis.client("wrong-password", password: "not-the-password")
        defer { Task { await wrong.close() } }
        for _ in 0..<2 {
            // The second call falls in the reconnect backoff and reports the same cause.
            await #expect { try await wrong.ping() } throws: { error in
                guard let error = error as? RedisError else { return false }
                return error.code == .authentication && error.serverMessage?.contains("WRONGPASS") == true
            }
        }
        var configuration = redis.configuration()
        configuration.password = nil
        let missing = RedisClient(configuration: configuration, logger: Logger(label: "test.no-password"))
        defer { Task { await missing.close() } }
        await #expect { try await missing.ping() } throws: { error in
            (error as? RedisError)?.code == .authentication && (error as? RedisError)?.serverMessage?.hasPrefix("NOAUTH") == true
        }
    }

    @Test func nothingListeningIsAConnectError() async throws {
        let configuration = RedisConfiguration(port: try FreePort.find(), connectTimeout: .milliseconds(500))
        let client = RedisClient(configuration: configuration, logger: Logger(label: "test.refused"))
        defer { Task { await client.close() } }
        await #expect { try await client.ping() } throws: { ($0 as? RedisError)?.code == .connect }
    }

    @Test func aHungServerTimesOutAndTheClientRecovers() async throws {
        let redis = try #require(TestRedis.current)
        let client = redis.client()
        defer { Task { await client.close() } }
        try await client.ping()
        let pid = try #require(redis.server.process?.pid)
        kill(pid, SIGSTOP)
        await #expect { try await client.ping() } throws: { ($0 as? RedisError)?.code == .timeout }
        kill(pid, SIGCONT)
        try await eventually("the client answers again after the server resumed") {
            (try? await client.ping()) != nil
        }
    }

    @Test func clientReconnectsAfterTheServerIsKilledAndRestarted() async throws {
        let redis = try #require(TestRedis.current)
        let client = redis.client()
        defer { Task { await client.close() } }
        let ns = TestRedis.namespace()
        try await client.set("\(ns)survivor", "kept")
        try await redis.restart(signal: SIGKILL)

        // The old socket is dead: the first command fails and drops it.
        await #expect { try await client.ping() } throws: { error in
            guard let error = error as? RedisError else { return false }
            return [.closed, .io, .timeout].contains(error.code)
        }
        try await eventually("the client reconnects to the restarted server") {
            (try? await client.ping()) != nil
        }
        // appendfsync always: the write acknowledged before the kill is still there.
        #expect(try await client.getString("\(ns)survivor") == "kept")
    }

    @Test func closedClientFailsWithDisconnected() async throws {
        let client = try #require(TestRedis.current).client()
        try await client.ping()
        await client.close()
        await #expect { try await client.ping() } throws: { ($0 as? RedisError)?.code == .disconnected }
    }

    @Test func subscriberReceivesAndResubscribesAfterARestart() async throws {
        let redis = try #require(TestRedis.current)
        let ns = TestRedis.namespace()
        let subscriber = RedisSubscriber(configuration: redis.configuration(), channels: ["\(ns)wake"],
                                         logger: Logger(label: "test.subscriber"))
        let running = Task { try await subscriber.run() }
        let client = redis.client()
        defer { Task { await client.close() } }
        var events = subscriber.events.makeAsyncIterator()

        #expect(await events.next() == .subscribed(channel: "\(ns)wake"))
        #expect(try await client.publish("one", to: "\(ns)wake") == 1)
        #expect(await events.next() == .message(channel: "\(ns)wake", payload: Array("one".utf8)))

        try await redis.restart(signal: SIGKILL)
        #expect(await events.next() == .subscribed(channel: "\(ns)wake"))
        var delivered = 0
        try await eventually("the publisher reaches the resubscribed subscriber") {
            delivered = (try? await client.publish("two", to: "\(ns)wake")) ?? 0
            return delivered == 1
        }
        #expect(await events.next() == .message(channel: "\(ns)wake", payload: Array("two".utf8)))

        running.cancel()
        try await running.value
        #expect(await events.next() == nil)
    }
}
