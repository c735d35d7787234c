#if canImport(Glibc)
import Glibc
#endif
import Foundation
import HTTPTypes
import Logging
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The proxies whose word on the client's address is believed (`STAM_TRUSTED_PROXIES`: addresses, networks or
/// host names, comma- or space-separated; in the deployment, `nginx`). A request whose TCP peer is one of them
/// is attributed to its `X-Real-IP` (nginx sets it to the address it saw); any other request to its TCP peer,
/// whatever headers it sends, so a client that talks to a backend directly cannot choose its address.
///
/// Why it matters: the login throttle counts failures per (account, address). Keyed on the TCP peer behind
/// nginx, every client shares nginx's address and one attacker locks everyone out.
///
/// Host names are resolved when the service starts and every `refreshInterval` (a proxy container recreated by
/// an update gets a new address); until a name resolves it trusts nothing for that name, and asks again every
/// `retryInterval` (nginx starts after the backends: without the quick retry every client would share nginx's
/// address, and its login throttle, for the first half minute of a backend's life).
public final class TrustedProxies: Service, Sendable {
    public let entries: [String]
    let refreshInterval: Duration
    let retryInterval: Duration
    let logger: Logger
    private let literal: [IPAddressRange]
    private let resolved = Mutex<[IPAddressRange]>([])
    /// Names already warned about, so a proxy that takes a while to start is one warning, not one a second.
    private let unresolvedWarned = Mutex<Set<String>>([])

    public init(entries: [String], refreshInterval: Duration = .seconds(30), retryInterval: Duration = .seconds(1), logger: Logger) {
        self.entries = entries
        self.refreshInterval = refreshInterval
        self.retryInterval = retryInterval
        self.logger = logger
        literal = entries.compactMap(IPAddressRange.init)
    }

    /// `STAM_TRUSTED_PROXIES`'s syntax: entries separated by commas or spaces.
    public convenience init(list: String?, logger: Logger) {
        let entries = (list ?? "").split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
        self.init(entries: entries, logger: logger)
    }

    var names: [String] { entries.filter { IPAddressRange($0) == nil } }

    public func isTrusted(_ peer: String) -> Bool {
        literal.contains { $0.contains(peer) } || resolved.withLock { $0.contains { $0.contains(peer) } }
    }

    /// The address a request is attributed to: `X-Real-IP` from a trusted peer (when it is an address), else
    /// the peer itself.
    public func clientAddress(peer: String?, headers: HTTPFields) -> String? {
        guard let peer, isTrusted(peer) else { return peer }
        guard let reported = headers[.realIP]?.trimmingCharacters(in: .whitespaces), IPAddressRange.bytes(of: reported) != nil else {
            return peer
        }
        return reported
    }

    /// Resolves the host names now (off the event loops: getaddrinfo blocks); false when one did not resolve.
    @discardableResult
    public func refresh() async -> Bool {
        let names = names
        guard !names.isEmpty else { return true }
        var ranges: [IPAddressRange] = []
        var complete = true
        for name in names {
            let addresses = (try? await NIOThreadPool.singleton.runIfActive { Self.resolve(name) }) ?? []
            if addresses.isEmpty {
                complete = false
                if !unresolvedWarned.withLock({ let was = $0.contains(name); $0.insert(name); return was }) {
                    logger.warning("trusted proxy name does not resolve yet; its requests count as its own until it does", metadata: ["proxy": .string(name)])
                }
            } else {
                _ = unresolvedWarned.withLock { $0.remove(name) }
            }
            ranges += addresses.compactMap(IPAddressRange.init)
        }
        let changed = resolved.withLock { current in
            defer { current = ranges }
            return Set(current) != Set(ranges)
        }
        if changed {
            logger.info("trusted proxies", metadata: ["addresses": .string(ranges.map(\.description).joined(separator: ","))])
        }
        return complete
    }

    public func run() async throws {
        // A service that returns ends its ServiceGroup: with nothing to resolve, wait for the shutdown.
        guard !names.isEmpty else {
            try? await gracefulShutdown()
            return
        }
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let complete = await self.refresh()
                try? await Task.sleep(for: complete ? self.refreshInterval : self.retryInterval)
            }
        }
    }

    static func resolve(_ name: String) -> [String] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(name, nil, &hints, &list) == 0, let first = list else { return [] }
        defer { freeaddrinfo(first) }
        var addresses: [String] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(entry.pointee.ai_addr, entry.pointee.ai_addrlen, &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST) == 0 {
                addresses.append(String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
            cursor = entry.pointee.ai_next
        }
        return Array(Set(addresses)).sorted()
    }
}

extension HTTPField.Name {
    public static let realIP = Self("X-Real-IP")!
}
