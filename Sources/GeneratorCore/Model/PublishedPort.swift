/// A port a service publishes on the host: `443` (TCP) or `7200/udp` in `publish:`. A DC-09 receiver publishes
/// its port twice, once per transport.
public struct PublishedPort: Hashable, Sendable {
    public enum Transport: String, Hashable, Sendable { case tcp, udp }

    public var number: Int
    public var transport: Transport

    public init(_ number: Int, _ transport: Transport = .tcp) {
        self.number = number
        self.transport = transport
    }

    /// `443`, `7200/udp`: nil for anything else.
    public init?(text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard let number = parts.first.flatMap({ Int($0) }) else { return nil }
        if parts.count == 1 { self.init(number); return }
        guard parts.count == 2, let transport = Transport(rawValue: String(parts[1])) else { return nil }
        self.init(number, transport)
    }
}
