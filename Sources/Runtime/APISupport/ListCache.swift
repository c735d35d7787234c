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
/// - Anything else (another backend's CRUD, SQL by hand, an event the relay has not published yet): at most
///   `max_age`, counted from the moment the answer's query started.
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
        var waiters: [CheckedContinuation<Decision, Never>] = []
    }

    struct EntityState {
        var policy: ListCachePolicy
        var generation: UInt64 = 0
        var entries: [String: Entry] = [:]
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
        /// Another request's query for the same key finished: its body, or nil when it failed.
        case joined(ByteBuffer?)
        case bypass
    }

    /// Answers kept per entity; past it the expired ones go, then all (a bound against query-string churn).
    public let maximumEntriesPerEntity: Int
    private let state = Mutex(State())

    public init(maximumEntriesPerEntity: Int = 256) {
        self.maximumEntriesPerEntity = maximumEntriesPerEntity
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

    /// The cached body for `key` of `policy.entity`, or `load`'s (stored when still current).
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
                if let id = entity.joinable[key], state.flights[id]?.generation == entity.generation {
                    // Counted when the query it joins finishes: a hit, or a bypass when that query failed.
                    state.flights[id]!.waiters.append(continuation)
                    return
                }
                state.counts[.miss, default: 0] += 1
                state.nextFlight += 1
                let id = state.nextFlight
                state.flights[id] = Flight(entity: policy.entity, key: key, generation: entity.generation)
                entity.joinable[key] = id
                state.entities[policy.entity] = entity
                continuation.resume(returning: .load(flight: id))
            }
        }
        switch decision {
        case .hit(let body):
            return (body, .hit)
        case .joined(let body?):
            return (body, .hit)
        case .joined(nil), .bypass:
            return (try await load(), .bypass)
        case .load(let id):
            do {
                let body = try await load()
                finish(flight: id, body: body, started: now, maxAge: policy.maxAge)
                return (body, .miss)
            } catch {
                finish(flight: id, body: nil, started: now, maxAge: policy.maxAge)
                throw error
            }
        }
    }

    private func finish(flight id: UInt64, body: ByteBuffer?, started: ContinuousClock.Instant, maxAge: Duration) {
        state.withLock { state in
            guard let flight = state.flights.removeValue(forKey: id) else { return }
            state.counts[body == nil ? .bypass : .hit, default: 0] += flight.waiters.count
            for waiter in flight.waiters { waiter.resume(returning: .joined(body)) }
            guard var entity = state.entities[flight.entity] else { return }
            if entity.joinable[flight.key] == id { entity.joinable[flight.key] = nil }
            if let body, state.enabled, entity.generation == flight.generation {
                if entity.entries.count >= maximumEntriesPerEntity {
                    let now = ContinuousClock.now
                    entity.entries = entity.entries.filter { $0.value.expires > now }
                    if entity.entries.count >= maximumEntriesPerEntity { entity.entries.removeAll() }
                }
                entity.entries[flight.key] = Entry(body: body, expires: started + maxAge)
            }
            state.entities[flight.entity] = entity
        }
    }

    private static func invalidate(_ name: String, in state: inout State) {
        guard var entity = state.entities[name] else { return }
        entity.generation += 1
        entity.entries.removeAll()
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
