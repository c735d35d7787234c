import Foundation
import Synchronization

/// Checks on every authenticated request (and periodically for each open WebSocket) that the token's session
/// is still valid, asking the `SessionStore` at most once per `maxAge` per session: a revocation on any
/// backend is seen everywhere within `maxAge` (a few seconds), and an operator's console that sends ten
/// requests a second costs one small query per `maxAge`. `forget` drops an answer at once (this process's own
/// logout and revocations).
///
/// A store that cannot answer (database down) refuses with 503, not 401: the console keeps its token and
/// retries, instead of logging every operator out during a failover.
public final class SessionVerifier: Sendable {
    struct Answer {
        var refusal: String?
        var checked: ContinuousClock.Instant
    }

    let store: any SessionStore
    public let maxAge: Duration
    let capacity: Int
    private let answers = Mutex<[UUID: Answer]>([:])

    public init(store: any SessionStore, maxAge: Duration = .seconds(2), capacity: Int = 50_000) {
        self.store = store
        self.maxAge = maxAge
        self.capacity = capacity
    }

    /// Throws `APIError.unauthorized` naming why the session ended, or 503 when the store cannot say.
    public func check(_ principal: Principal, now: ContinuousClock.Instant = .now) async throws {
        if let refusal = try await refusal(of: principal, now: now) { throw APIError.unauthorized("the session has ended: \(refusal)") }
    }

    /// Why the session has ended ("the operator was deactivated", ...), nil while it is valid; 503 when the store
    /// cannot say.
    public func refusal(of principal: Principal, now: ContinuousClock.Instant = .now) async throws -> String? {
        guard let session = principal.sessionId else { return "the token belongs to no session; log in again" }
        let cached = answers.withLock { table -> Answer? in
            guard let answer = table[session], now - answer.checked < maxAge else { return nil }
            return answer
        }
        let refusal: String?
        if let cached {
            refusal = cached.refusal
        } else {
            do {
                refusal = try await store.refusal(of: session, principal: principal)
            } catch let error as APIError {
                throw error
            } catch {
                throw APIError(status: .serviceUnavailable, code: "session_check_failed",
                               message: "the session cannot be checked right now; retry", headers: [.retryAfter: "2"])
            }
            answers.withLock { table in
                if table.count >= capacity { table = table.filter { now - $0.value.checked < maxAge } }
                if table.count >= capacity { table.removeAll(keepingCapacity: true) }
                table[session] = Answer(refusal: refusal, checked: now)
            }
        }
        return refusal
    }

    public func forget(_ session: UUID) {
        _ = answers.withLock { $0.removeValue(forKey: session) }
    }
}
