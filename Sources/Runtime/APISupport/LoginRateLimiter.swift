import Foundation
import Synchronization

/// Limits failed logins per account and per client address in a sliding window, so guessing passwords is
/// slow. It counts in this process only: with two backends an attacker gets each limit per backend, which
/// nginx's `limit_req` on the login route (deploy/generated/nginx) bounds in front of both.
public final class LoginRateLimiter: Sendable {
    public struct Limits: Sendable {
        public var perAccount: Int
        public var perAddress: Int
        public var window: Duration

        public init(perAccount: Int = 5, perAddress: Int = 20, window: Duration = .seconds(300)) {
            self.perAccount = perAccount
            self.perAddress = perAddress
            self.window = window
        }
    }

    private let limits: Limits
    private let failures = Mutex<[String: [ContinuousClock.Instant]]>([:])

    public init(limits: Limits = Limits()) { self.limits = limits }

    /// Seconds until the next attempt is allowed, or nil when it is allowed now.
    public func retryAfter(account: String, address: String?, now: ContinuousClock.Instant = .now) -> Int? {
        failures.withLock { table in
            var waits: [Duration] = []
            for (key, limit) in keys(account: account, address: address) {
                let recent = (table[key] ?? []).filter { now - $0 < limits.window }
                table[key] = recent.isEmpty ? nil : recent
                if recent.count >= limit, let oldest = recent.first { waits.append(limits.window - (now - oldest)) }
            }
            return waits.max().map { max(1, Int($0.components.seconds) + 1) }
        }
    }

    public func recordFailure(account: String, address: String?, now: ContinuousClock.Instant = .now) {
        failures.withLock { table in
            for (key, _) in keys(account: account, address: address) { table[key, default: []].append(now) }
        }
    }

    /// A successful login clears the account's failures (not the address's).
    public func recordSuccess(account: String) {
        _ = failures.withLock { $0.removeValue(forKey: "account:" + account.lowercased()) }
    }

    private func keys(account: String, address: String?) -> [(String, Int)] {
        var keys = [("account:" + account.lowercased(), limits.perAccount)]
        if let address { keys.append(("address:" + address, limits.perAddress)) }
        return keys
    }
}
