import NIOCore

/// How a `SatelClient` reaches and reads one panel.
public struct SatelClientConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// The integration key when the module has encrypted integration enabled.
    public var integrationKey: String?
    /// How often the "new data" command is polled (when the module does not push).
    public var pollInterval: TimeAmount
    /// Push (monitoring mode), poll, or push when the module serves it (doc §3.7).
    public var mode: StateDeliveryMode
    /// Between keepalives while the module pushes (capped at 20 s: the module drops a link after 25 s of silence).
    public var keepaliveInterval: TimeAmount
    /// How long a request may wait for its answer (the doc suggests ~3 s; libraries use 5 s).
    public var requestTimeout: TimeAmount
    public var connectTimeout: TimeAmount
    public var eventLogStart: EventLogStart
    /// Read the newest event-log record on every poll (one extra request per poll) to notice new records.
    public var followEventLog: Bool
    /// How many older records a walk hands over at a time (the newest few go first, see `EventLogWalker`).
    public var maximumEventsPerBatch: Int
    /// The state bitmaps to follow. Commands 0x28 and up are read only when the panel flags them, since
    /// older firmware does not know them.
    public var watchedCommands: [StateCommand]
    /// Trouble parts to follow.
    public var watchedTroubles: [TroublePart]
    public var backoff: ReconnectBackoff
    /// Reconnect after a failure; off for one-shot uses such as the probe.
    public var reconnect: Bool

    public init(
        host: String, port: Int = 7094, integrationKey: String? = nil, pollInterval: TimeAmount = .seconds(1),
        mode: StateDeliveryMode = .auto, keepaliveInterval: TimeAmount = .seconds(10),
        requestTimeout: TimeAmount = .seconds(5), connectTimeout: TimeAmount = .seconds(10),
        eventLogStart: EventLogStart = .newest, followEventLog: Bool = true, maximumEventsPerBatch: Int = 2048,
        watchedCommands: [StateCommand] = SatelClientConfiguration.defaultWatchedCommands,
        watchedTroubles: [TroublePart] = [.part1, .part2, .part3, .part4, .part5],
        backoff: ReconnectBackoff = ReconnectBackoff(), reconnect: Bool = true
    ) {
        self.host = host
        self.port = port
        self.integrationKey = integrationKey
        // The module drops a link after 25 s without a frame; polling is the keepalive, so cap it well below.
        self.pollInterval = min(pollInterval, .seconds(15))
        self.mode = mode
        self.keepaliveInterval = min(keepaliveInterval, .seconds(20))
        self.requestTimeout = requestTimeout
        self.connectTimeout = connectTimeout
        self.eventLogStart = eventLogStart
        self.followEventLog = followEventLog
        self.maximumEventsPerBatch = maximumEventsPerBatch
        self.watchedCommands = watchedCommands
        self.watchedTroubles = watchedTroubles
        self.backoff = backoff
        self.reconnect = reconnect
    }

    /// What a monitoring station needs: zone, partition and output states and alarms.
    public static let defaultWatchedCommands: [StateCommand] = [
        .zonesViolation, .zonesTamper, .zonesAlarm, .zonesTamperAlarm, .zonesAlarmMemory, .zonesTamperAlarmMemory,
        .zonesBypass, .zonesIsolate, .partitionsArmed, .partitionsArmedMode1, .partitionsArmedMode2, .partitionsArmedMode3,
        .partitionsEntryTime, .partitionsExitTimeLong, .partitionsExitTimeShort, .partitionsAlarm, .partitionsFireAlarm,
        .partitionsAlarmMemory, .partitionsFireAlarmMemory, .outputsState,
    ]
}
