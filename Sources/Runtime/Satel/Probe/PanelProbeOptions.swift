import NIOCore

/// What `stam panel probe` asks for.
public struct PanelProbeOptions: Sendable {
    public var host: String
    public var port: Int
    public var integrationKey: String?
    /// How many of the newest event-log records to read and print.
    public var eventCount: Int
    /// Read the names of the objects the report lists (one 0xEE request each).
    public var readNames: Bool
    /// The longest the whole probe may take before it reports "no answer".
    public var overallTimeout: TimeAmount
    public var requestTimeout: TimeAmount

    public init(
        host: String, port: Int = 7094, integrationKey: String? = nil, eventCount: Int = 10, readNames: Bool = true,
        overallTimeout: TimeAmount = .seconds(30), requestTimeout: TimeAmount = .seconds(5)
    ) {
        self.host = host
        self.port = port
        self.integrationKey = integrationKey
        self.eventCount = max(0, eventCount)
        self.readNames = readNames
        self.overallTimeout = overallTimeout
        self.requestTimeout = requestTimeout
    }
}
