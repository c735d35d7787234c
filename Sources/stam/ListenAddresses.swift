import APISupport
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where a process's small HTTP port listens when some networks must not reach it: every local IPv4 address
/// outside the excluded ranges, loopback always (the container's own health check). The worker is on the panel
/// VLAN too, and `/readyz` or `/metrics` have no business there (issue 18).
enum ListenAddresses {
    static func excluding(_ ranges: [IPAddressRange]) -> [String] {
        var addresses = ["127.0.0.1"]
        for address in localIPv4Addresses() where address != "127.0.0.1" && !ranges.contains(where: { $0.contains(address) }) {
            addresses.append(address)
        }
        return addresses
    }

    static func localIPv4Addresses() -> [String] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return [] }
        defer { freeifaddrs(list) }
        var addresses: [String] = []
        for entry in sequence(first: first, next: { $0.pointee.ifa_next }) {
            guard let address = entry.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET) else { continue }
            var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            guard getnameinfo(address, socklen_t(MemoryLayout<sockaddr_in>.size), &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST) == 0 else {
                continue
            }
            addresses.append(String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return addresses
    }
}
