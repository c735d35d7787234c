import Hummingbird
import NIOCore
import Synchronization

/// What the schema's `list_cache:` says about one entity's list route (generated as `<Entity>Routes.listCache`).
public struct ListCachePolicy: Sendable {
    public var entity: String
    public var maxAge: Duration
    /// Events whose arrival on the live feed drops every cached answer of this entity.
    public var invalidatedBy: [String]

    public init(entity: String, maxAge: Duration, invalidatedBy: [String]) {
        self.entity = entity
        self.maxAge = maxAge
        self.invalidatedBy = invalidatedBy
    }
}

/// The backend's in-memory cache of list answers (the body bytes, keyed by entity and query string), for the
/// entities whose schema declares `list_cache:`. Consoles re-read the alarm list after every live event; with
/// this, N consoles on a backend cost one query per change instead of N.
///
/// When an answer can be stale, and for how long:
/// - A change made through this backend: never. Every write request drops every cached answer when it
///   completes, before its response leaves (`ListCacheInvalidationMiddleware`), so its caller's next read is fresh.
/// - A change announced by an event (`invalidated_by`): until the event reaches this backend's live feed, which
///   drops the answers before the event is pushed to any WebSocket, so a console that re-reads on an event
///   always gets a fresh list.
/// - Anything else (another backend's CRUD, SQL by hand, an event the relay has not published yet, a console
///   whose REST calls nginx moved to another backend than its WebSocket's): at most `max_age`, counted from the
///   moment the answer's query started; a request joins a running query only while that still holds.
/// - While the live feed is not connected the cache is off (every request reads the database).
///
/// An answer whose query started before an invalidation is never stored, and a request never joins such a
/// query: concurrent misses share one query only within one generation of the entity.
public final class ListCache: Sendable {
    public enum Outcome: String, Sendable {
        case hit, miss, bypass
    }

    struct Entry {
        var body: ByteBuffer
        var expires: ContinuousClock.Instant
    }

    struct Flight {
        var entity: String
        var key: String
        var generation: UInt64
        /// A request joins only while the answer would still be within max_age of this.
        var started: ContinuousClock.Instant
        var waiters: [CheckedContinuation<Decision, Never>] = []
    }

    struct EntityState {
        var policy: ListCachePolicy
        var generation: UInt64 = 0
        var entries: [String: Entry] = [:]
        var entryBytes = 0
        /// The query a request with this key may join (same generation only).
        var joinable: [String: UInt64] = [:]
    }

    struct State {
        var entities: [String: EntityState] = [:]
        var entitiesByEvent: [String: [String]] = [:]
        var flights: [UInt64: Flight] = [:]
        var nextFlight: UInt64 = 0
        var enabled = false
        var counts: [Outcome: Int] = [:]
        var invalidations = 0
    }

    enum Decision {
        case hit(ByteBuffer)
        case load(flight: UInt64)
        /// Another request's query for the same key finished: its body or its error.
        case joined(Result<ByteBuffer, any Error>)
        case bypass
    }

    /// Answers kept per entity, and their bytes; past either the expired ones go, then all (a bound against
    /// query-string churn and large pages).
    public let maximumEntriesPerEntity: Int
    public let maximumBytesPerEntity: Int
    private let state = Mutex(State())

    public init(maximumEntriesPerEntity: Int = 256, maximumBytesPerEntity: Int = 32 << 20) {
        self.maximumEntriesPerEntity = maximumEntriesPerEntity
        self.maximumBytesPerEntity = maximumBytesPerEntity
    }

    /// Called once per cached route when the routes are registered.
    public func register(_ policy: ListCachePolicy) {
        state.withLock { state in
            if state.entities[policy.entity] == nil { state.entities[policy.entity] = EntityState(policy: policy) }
            for event in policy.invalidatedBy where !(state.entitiesByEvent[event] ?? []).contains(policy.entity) {
                state.entitiesByEvent[event, default: []].append(policy.entity)
            }
        }
    }

    /// The live feed's state: answers are cached only while events can reach this backend. Every change of
    /// state drops what is cached.
    public func setEnabled(_ enabled: Bool) {
        state.withLock { state in
            guard state.enabled != enabled else { return }
            state.enabled = enabled
            Self.invalidateAll(&state)
        }
    }

    public var isEnabled: Bool { state.withLock { $0.enabled } }

    /// An event arrived on the live feed: drops the answers of the entities it invalidates. An event without a
    /// name drops everything.
    public func invalidate(event name: String?) {
        state.withLock { state in
            guard let name else { return Self.invalidateAll(&state) }
            for entity in state.entitiesByEvent[name] ?? [] { Self.invalidate(entity, in: &state) }
        }
    }

    /// A write passed through this backend.
    public func invalidateAll() {
        state.withLock { Self.invalidateAll(&$0) }
    }

    /// Answers served so far by outcome, and invalidations (for `/metrics`).
    public var counts: (hits: Int, misses: Int, bypasses: Int, invalidations: Int) {
        state.withLock { ($0.counts[.hit] ?? 0, $0.counts[.miss] ?? 0, $0.counts[.bypass] ?? 0, $0.invalidations) }
    }

    /// The cached body for `key` of `policy.entity`, or `load`'s (stored when still current). The entity's
    /// registered policy decides the age (the first registration of an entity wins).
    public func body(for policy: ListCachePolicy, key: String, load: () async throws -> ByteBuffer) async throws -> (ByteBuffer, Outcome) {
        let now = ContinuousClock.now
        let decision = await withCheckedContinuation { (continuation: CheckedContinuation<Decision, Never>) in
            state.withLock { state in
                guard state.enabled, var entity = state.entities[policy.entity] else {
                    state.counts[.bypass, default: 0] += 1
                    return continuation.resume(returning: .bypass)
                }
                if let entry = entity.entries[key], now < entry.expires {
                    state.counts[.hit, default: 0] += 1
                    return continuation.resume(returning: .hit(entry.body))
                }
                // Join a query of the same generation whose answer will still be young enough; an older one (a slow
                // or hung query) is left to its own waiters and this request starts another.
                if let id = entity.joinable[key], let flight = state.flights[id], flight.generation == entity.generation,
                   now < flight.started + entity.policy.maxAge {
                    // Counted when the query it joins finishes: a hit, or a bypass when that query failed.
                    state.flights[id]!.waiters.append(continuation)
                    return
                }
                state.counts[.miss, default: 0] += 1
                state.nextFlight += 1
                let id = state.nextFlight
                state.flights[id] = Flight(entity: policy.entity, key: key, generation: entity.generation, started: now)
                entity.joinable[key] = id
                state.entities[policy.entity] = entity
                continuation.resume(returning: .load(flight: id))
            }
        }
        switch decision {
        case .hit(let body):
            return (body, .hit)
        case .joined(.success(let body)):
            return (body, .hit)
        case .joined(.failure(let error)):
            // The shared query failed: the same error for everyone waiting on it (N fresh queries would hit a
            // struggling database all at once), unless it failed only because its own request went away.
            if error is CancellationError { return (try await load(), .bypass) }
            throw error
        case .bypass:
            return (try await load(), .bypass)
        case .load(let id):
            do {
                let body = try await load()
                finish(flight: id, result: .success(body))
                return (body, .miss)
            } catch {
                finish(flight: id, result: .failure(error))
                throw error
            }
        }
    }

    private func finish(flight id: UInt64, result: Result<ByteBuffer, any Error>) {
        state.withLock { state in
            guard let flight = state.flights.removeValue(forKey: id) else { return }
            let body = try? result.get()
            state.counts[body == nil ? .bypass : .hit, default: 0] += flight.waiters.count
            for waiter in flight.waiters { waiter.resume(returning: .joined(result)) }
            guard var entity = state.entities[flight.entity] else { return }
            if entity.joinable[flight.key] == id { entity.joinable[flight.key] = nil }
            if let body, state.enabled, entity.generation == flight.generation {
                store(body, key: flight.key, expires: flight.started + entity.policy.maxAge, in: &entity)
            }
            state.entities[flight.entity] = entity
        }
    }

    private func store(_ body: ByteBuffer, key: String, expires: ContinuousClock.Instant, in entity: inout EntityState) {
        if let old = entity.entries.removeValue(forKey: key) { entity.entryBytes -= old.body.readableBytes }
        let now = ContinuousClock.now
        if entity.entries.count >= maximumEntriesPerEntity || entity.entryBytes + body.readableBytes > maximumBytesPerEntity {
            entity.entries = entity.entries.filter { $0.value.expires > now }
            entity.entryBytes = entity.entries.values.reduce(0) { $0 + $1.body.readableBytes }
            if entity.entries.count >= maximumEntriesPerEntity || entity.entryBytes + body.readableBytes > maximumBytesPerEntity {
                entity.entries.removeAll()
                entity.entryBytes = 0
            }
        }
        guard body.readableBytes <= maximumBytesPerEntity, now < expires else { return }
        entity.entries[key] = Entry(body: body, expires: expires)
        entity.entryBytes += body.readableBytes
    }

    private static func invalidate(_ name: String, in state: inout State) {
        guard var entity = state.entities[name] else { return }
        entity.generation += 1
        entity.entries.removeAll()
        entity.entryBytes = 0
        entity.joinable.removeAll()
        state.entities[name] = entity
        state.invalidations += 1
    }

    private static func invalidateAll(_ state: inout State) {
        for name in state.entities.keys { invalidate(name, in: &state) }
    }
}

/// Drops every cached list answer when a request that may write (anything but GET, HEAD, OPTIONS) completes,
/// failed ones included (a failure may come after a commit), before its response is sent.
public struct ListCacheInvalidationMiddleware: RouterMiddleware {
    public typealias Context = StamRequestContext
    let cache: ListCache

    public init(cache: ListCache) { self.cache = cache }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard ![.get, .head, .options].contains(request.method) else { return try await next(request, context) }
        defer { cache.invalidateAll() }
        return try await next(request, context)
    }
}
