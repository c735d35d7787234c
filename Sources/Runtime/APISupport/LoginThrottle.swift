import Synchronization

/// Slows password guessing without handing an attacker a way to lock operators out.
///
/// Failures are counted per (account, client address): after `freeFailures` each further attempt from that
/// address for that account waits `firstDelay`, doubling with every failure up to `maxDelay`. The same account
/// from another address is not affected, so an attacker who hammers `admin` slows only themselves while the
/// real admin logs in from their own desk. A separate, higher ceiling per address (`perAddress` failures in
/// `window`, any account) stops one address from spraying many accounts. A success clears its own
/// (account, address) count. Attempts refused here are not checked and do not count.
///
/// The client address is `StamRequestContext.clientAddress` (nginx's `X-Real-IP` from a trusted proxy), and
/// nginx pins an address to one backend (`ip_hash`), so counting in each process sees all of one address's
/// attempts. What it does not stop: guessing spread over many addresses (bounded by bcrypt's cost and nginx's
/// per-address rate), see docs/SECURITY.md.
public final class LoginThrottle: Sendable {
    public struct Limits: Sendable {
        public var freeFailures: Int
        public var firstDelay: Duration
        public var maxDelay: Duration
        public var perAddress: Int
        public var window: Duration

        public init(freeFailures: Int = 3, firstDelay: Duration = .seconds(1), maxDelay: Duration = .seconds(300),
                    perAddress: Int = 30, window: Duration = .seconds(900)) {
            self.freeFailures = freeFailures
            self.firstDelay = firstDelay
            self.maxDelay = maxDelay
            self.perAddress = perAddress
            self.window = window
        }

        /// The wait after `failures` failures of one (account, address).
        func delay(after failures: Int) -> Duration {
            guard failures >= freeFailures else { return .zero }
            let doublings = min(failures - freeFailures, 30)
            return min(firstDelay * (1 << doublings), maxDelay)
        }
    }

    /// Why an attempt waits: the (account, address) pair's growing delay or the address's ceiling.
    public enum Refusal: String, Sendable {
        case accountAtAddress = "account_address"
        case address
    }

    public let limits: Limits
    private let table = Mutex<Table>(Table())

    struct Table {
        var pairs: [String: [ContinuousClock.Instant]] = [:]
        var addresses: [String: [ContinuousClock.Instant]] = [:]
        var writes = 0
    }

    public init(limits: Limits = Limits()) { self.limits = limits }

    /// Whole seconds until an attempt is allowed and why, or nil when it is allowed now.
    public func retryAfter(account: String, address: String?, now: ContinuousClock.Instant = .now) -> (seconds: Int, reason: Refusal)? {
        table.withLock { table in
            var waits: [(Duration, Refusal)] = []
            let pair = Self.pairKey(account: account, address: address)
            let failures = Self.recent(&table.pairs, pair, now: now, window: limits.window)
            if let last = failures.last {
                let wait = limits.delay(after: failures.count) - (now - last)
                if wait > .zero { waits.append((wait, .accountAtAddress)) }
            }
            if let address {
                let spread = Self.recent(&table.addresses, address, now: now, window: limits.window)
                if spread.count >= limits.perAddress, let oldest = spread.first { waits.append((limits.window - (now - oldest), .address)) }
            }
            return waits.max { $0.0 < $1.0 }.map { wait, reason in
                let (seconds, attoseconds) = wait.components
                return (max(1, Int(seconds) + (attoseconds > 0 ? 1 : 0)), reason)
            }
        }
    }

    public func recordFailure(account: String, address: String?, now: ContinuousClock.Instant = .now) {
        table.withLock { table in
            table.pairs[Self.pairKey(account: account, address: address), default: []].append(now)
            if let address { table.addresses[address, default: []].append(now) }
            table.writes += 1
            // An attacker spraying names or addresses must not grow the table for ever: now and then drop what
            // has left the window.
            if table.writes % 1024 == 0 {
                let window = limits.window
                table.pairs = table.pairs.filter { now - ($0.value.last ?? now) < window }
                table.addresses = table.addresses.filter { now - ($0.value.last ?? now) < window }
            }
        }
    }

    public func recordSuccess(account: String, address: String?) {
        _ = table.withLock { $0.pairs.removeValue(forKey: Self.pairKey(account: account, address: address)) }
    }

    static func pairKey(account: String, address: String?) -> String { account.lowercased() + "\u{0}" + (address ?? "-") }

    static func recent(_ table: inout [String: [ContinuousClock.Instant]], _ key: String, now: ContinuousClock.Instant,
                       window: Duration) -> [ContinuousClock.Instant] {
        let recent = (table[key] ?? []).filter { now - $0 < window }
        table[key] = recent.isEmpty ? nil : recent
        return recent
    }
}
