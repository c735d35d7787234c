import Foundation
import Synchronization

/// Tokens this process has already verified, until they expire: an operator's console sends the same token
/// with every request, and an RSA verification (behind jwt-kit's key-collection actor, one at a time) per
/// request is the largest fixed cost of a small authenticated read. The key is the whole token, signature
/// included, so only a byte-identical copy of a verified token hits; anything else is verified in full.
/// Bounded: when full, expired entries go first, then everything (a refill costs one verification each).
public final class VerifiedTokenCache: Sendable {
    struct Entry {
        var principal: Principal
        var expires: Date
    }

    private let entries = Mutex<[String: Entry]>([:])
    let capacity: Int

    public init(capacity: Int = 10_000) { self.capacity = capacity }

    func principal(for token: String, now: Date = Date()) -> Principal? {
        entries.withLock { table in
            guard let entry = table[token] else { return nil }
            guard now < entry.expires else {
                table.removeValue(forKey: token)
                return nil
            }
            return entry.principal
        }
    }

    func remember(_ token: String, principal: Principal, expires: Date, now: Date = Date()) {
        entries.withLock { table in
            if table.count >= capacity {
                table = table.filter { now < $0.value.expires }
                if table.count >= capacity { table.removeAll(keepingCapacity: true) }
            }
            table[token] = Entry(principal: principal, expires: expires)
        }
    }

    var count: Int { entries.withLock { $0.count } }
}
