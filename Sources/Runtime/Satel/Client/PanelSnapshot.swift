/// Everything the client knows about the panel right now.
public struct PanelSnapshot: Hashable, Sendable {
    public var identity: PanelIdentity?
    public var bitmaps: [StateCommand: ObjectBitmap]
    public var troubleParts: [TroublePart: [UInt8]]
    public var clock: ClockAndStatus?
    /// Commands the panel answered `EF 08` to (older firmware); they are not asked again.
    public var unsupportedCommands: Set<UInt8>

    public init(
        identity: PanelIdentity? = nil, bitmaps: [StateCommand: ObjectBitmap] = [:],
        troubleParts: [TroublePart: [UInt8]] = [:], clock: ClockAndStatus? = nil, unsupportedCommands: Set<UInt8> = []
    ) {
        self.identity = identity
        self.bitmaps = bitmaps
        self.troubleParts = troubleParts
        self.clock = clock
        self.unsupportedCommands = unsupportedCommands
    }

    /// The objects set in a state bitmap, or none if it was not read.
    public func objects(_ command: StateCommand) -> [Int] {
        bitmaps[command]?.numbers ?? []
    }

    public var troubles: TroubleReport { TroubleReport(parts: troubleParts) }

    /// The arming mode of each armed partition (0x0A with 0x2A/0x0B/0x0C telling the partial modes).
    public var armedPartitions: [(partition: Int, mode: ArmMode)] {
        objects(.partitionsArmed).map { partition in
            let mode: ArmMode =
                if objects(.partitionsArmedMode3).contains(partition) { .mode3 }
                else if objects(.partitionsArmedMode2).contains(partition) { .mode2 }
                else if objects(.partitionsArmedMode1).contains(partition) { .mode1 }
                else { .mode0 }
            return (partition, mode)
        }
    }
}
