/// Why a probe failed, as a plain reason for an installer; the command exits with status 1.
public struct PanelProbeFailure: Error, Hashable, Sendable {
    public enum Reason: String, Hashable, Sendable, Codable {
        case unreachable
        case busy
        case wrongKey
        case noAnswer
        case protocolError
    }

    public var reason: Reason
    public var detail: String

    public init(reason: Reason, detail: String) {
        self.reason = reason
        self.detail = detail
    }

    init(_ error: SatelClientError) {
        switch error.code {
        case .unreachable: self.init(reason: .unreachable, detail: error.message)
        case .moduleBusy: self.init(reason: .busy, detail: error.message)
        case .wrongIntegrationKey: self.init(reason: .wrongKey, detail: error.message)
        case .noAnswer, .connectionClosed, .notConnected, .shuttingDown: self.init(reason: .noAnswer, detail: error.message)
        case .protocolViolation: self.init(reason: .protocolError, detail: error.message)
        }
    }

    /// The one-line reason printed to the installer.
    public var plainReason: String {
        switch reason {
        case .unreachable: "unreachable: \(detail)"
        case .busy: "busy with another client: the module allows one integration client at a time"
        case .wrongKey: "wrong key: \(detail)"
        case .noAnswer: "no answer: \(detail)"
        case .protocolError: "protocol error: \(detail)"
        }
    }

    /// The process exit status for this failure.
    public var exitStatus: Int32 { 1 }
}
