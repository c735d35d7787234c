import DC09
import Foundation
import Generated
import Logging
import NIOConcurrencyHelpers
import Persistence
import ServiceLifecycle

/// The receiver's accounts in memory, for the synchronous lookup every frame needs (`DC09AccountDirectory`),
/// read again from PostgreSQL every `refreshInterval` (an account an administrator adds is taken within it). A
/// key that is not a valid AES key in its form leaves its account refused, with one error in the log per refresh.
/// Until the first read succeeds every account is unknown: frames get NAK and their senders retry.
public final class DC09AccountCache: DC09AccountDirectory, Service, Sendable {
    struct Entry: Sendable {
        var id: UUID
        var panelID: UUID
        var receiverNumber: String?
        var linePrefix: String?
        var account: DC09Account
    }

    let repositories: Repositories
    let refreshInterval: Duration
    let logger: Logger
    /// Told the number of usable accounts after every refresh (the metrics' `stam_dc09_accounts`).
    let onRefresh: @Sendable (Int) -> Void
    private let entries = NIOLockedValueBox<[String: Entry]?>(nil)

    public init(repositories: Repositories, refreshInterval: Duration = .seconds(10), logger: Logger,
                onRefresh: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.repositories = repositories
        self.onRefresh = onRefresh
        self.refreshInterval = refreshInterval
        self.logger = logger
    }

    /// Whether the accounts have been read at least once (readiness).
    public var isLoaded: Bool { entries.withLockedValue { $0 != nil } }

    public func account(_ header: DC09Header) -> DC09Account {
        guard let entry = entries.withLockedValue({ $0?[header.account.uppercased()] }) else { return .unknown }
        // Bound to a receiver number or a line: a frame naming another is not this account's.
        if let number = entry.receiverNumber, number.uppercased() != header.receiver?.uppercased() { return .unknown }
        if let line = entry.linePrefix, line.uppercased() != header.linePrefix?.uppercased() { return .unknown }
        return entry.account
    }

    /// The account's row and panel, as of the last refresh.
    func entry(_ account: String) -> Entry? { entries.withLockedValue { $0?[account.uppercased()] } }

    public func refresh() async throws {
        var fresh: [String: Entry] = [:]
        for row in try await repositories.dc09Accounts.all(filter: .init(enabled: true)) {
            var account = DC09Account.plain
            if let secret = row.key?.revealed {
                do {
                    account = .encrypted(row.keyForm == .hex ? try DC09Key(hex: secret) : try DC09Key(text: secret))
                } catch {
                    logger.error("DC-09 account's key is not usable: its frames are refused", metadata: ["account": .string(row.account), "error": "\(error)"])
                    continue
                }
            }
            fresh[row.account.uppercased()] = Entry(id: row.id, panelID: row.panelId, receiverNumber: row.receiverNumber,
                                                    linePrefix: row.linePrefix, account: account)
        }
        entries.withLockedValue { $0 = fresh }
        onRefresh(fresh.count)
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do { try await refresh() } catch {
                logger.warning("DC-09 accounts not read; keeping the previous ones", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.refreshInterval) }
        }
    }
}
