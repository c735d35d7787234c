import Satel
/// Counters a simulated module keeps, for tests and the benchmark.
public struct PanelSimulatorStatistics: Hashable, Sendable, Codable {
    public var connectionsAccepted = 0
    /// Second clients turned away with the "Busy!" banner.
    public var connectionsRefused = 0
    /// TCP clients connected at the same moment, at most (a refused one counts until it is closed): above 1, two
    /// clients (two workers) reached the module at once.
    public var peakConcurrentClients = 0
    public var idleDisconnects = 0
    public var framesReceived = 0
    public var framesSent = 0
    /// Frames with bad CRC, bad stuffing or stray bytes: dropped silently, as the module does.
    public var malformedFrames = 0
    /// Well-formed frames that are no request we know (unknown command, wrong length).
    public var requestsRejected = 0
    /// Requests understood, by command code (0x7F counts polls and monitoring requests alike).
    public var requestsByCommand: [UInt8: Int] = [:]
    /// Frames the module sent by itself (monitoring pushes), not as an answer.
    public var framesPushed = 0

    public init() {}
}
