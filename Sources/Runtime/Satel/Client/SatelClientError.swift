/// Why a client request or connection failed, in words an installer or operator can act on.
public struct SatelClientError: Error, Hashable, Sendable {
    public enum Code: String, Hashable, Sendable, Codable {
        /// TCP could not connect (refused, no route, timed out).
        case unreachable
        /// The module sent its "Busy!" banner: another integration client holds the slot.
        case moduleBusy
        /// Encrypted replies do not echo our id: the integration key is wrong.
        case wrongIntegrationKey
        /// A request got no answer in time; the link is treated as dead.
        case noAnswer
        /// The module closed the connection.
        case connectionClosed
        /// A control command was issued while no connection was up.
        case notConnected
        /// The client is shutting down.
        case shuttingDown
        /// The module answered something that makes no sense for the request.
        case protocolViolation
    }

    public var code: Code
    public var message: String
    /// The bytes that showed the problem, when there are any.
    public var bytes: [UInt8]

    public init(code: Code, message: String, bytes: [UInt8] = []) {
        self.code = code
        self.message = message
        self.bytes = Array(bytes.prefix(SatelFramingError.maximumReportedBytes))
    }
}

extension SatelClientError: CustomStringConvertible {
    public var description: String {
        bytes.isEmpty ? "\(code.rawValue): \(message)" : "\(code.rawValue): \(message) [\(SatelHex.string(bytes))]"
    }
}
