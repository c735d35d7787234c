import APISupport
import HTTPTypes
import Logging
import Testing

/// Whose word on the client address counts: only a trusted proxy's `X-Real-IP`, and only when it is an address.
@Suite struct TrustedProxiesTests {
    let logger = Logger(label: "test.proxies")

    @Test func addressesAndNetworksMatchByPrefix() throws {
        let network = try #require(IPAddressRange("10.89.0.0/24"))
        #expect(network.contains("10.89.0.7"))
        #expect(!network.contains("10.89.1.7"))
        #expect(network.contains("::ffff:10.89.0.7"))  // how a dual-stack socket reports an IPv4 peer
        #expect(try #require(IPAddressRange("fd00::/8")).contains("fd12::1"))
        #expect(!(try #require(IPAddressRange("fd00::/8"))).contains("fe80::1"))
        #expect(try #require(IPAddressRange("127.0.0.1")).contains("127.0.0.1"))
        #expect(network.description == "10.89.0.0/24")
        for bad in ["nginx", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "::/129", ""] { #expect(IPAddressRange(bad) == nil, "\(bad)") }
    }

    @Test func onlyATrustedPeersRealIPIsBelieved() {
        let proxies = TrustedProxies(entries: ["10.89.0.2", "fd00::/8"], logger: logger)
        #expect(proxies.clientAddress(peer: "10.89.0.2", headers: [.realIP: "198.51.100.20"]) == "198.51.100.20")
        #expect(proxies.clientAddress(peer: "fd00::5", headers: [.realIP: "2001:db8::1"]) == "2001:db8::1")
        #expect(proxies.clientAddress(peer: "10.89.0.9", headers: [.realIP: "198.51.100.20"]) == "10.89.0.9")
        #expect(proxies.clientAddress(peer: "10.89.0.2", headers: [.realIP: "not-an-address"]) == "10.89.0.2")
        #expect(proxies.clientAddress(peer: "10.89.0.2", headers: [:]) == "10.89.0.2")
        #expect(TrustedProxies(entries: [], logger: logger).clientAddress(peer: "127.0.0.1", headers: [.realIP: "1.2.3.4"]) == "127.0.0.1")
    }

    @Test func hostNamesAreResolvedIntoTheTrustedSet() async {
        let proxies = TrustedProxies(list: "localhost, 192.0.2.1", logger: logger)
        #expect(proxies.entries == ["localhost", "192.0.2.1"])
        #expect(!proxies.isTrusted("127.0.0.1"))  // not before the name is resolved
        await proxies.refresh()
        #expect(proxies.isTrusted("127.0.0.1"))
        #expect(proxies.isTrusted("192.0.2.1"))
        #expect(!proxies.isTrusted("192.0.2.2"))
    }
}
