import Satel
/// Everything that makes one simulated panel: model, objects, users, firmware and module behaviour.
public struct SimulatedPanelConfiguration: Hashable, Sendable {
    public var model: PanelModel
    public var zones: [SimulatedZone]
    public var partitionNames: [String]
    public var outputNames: [String]
    public var users: [SimulatedUser]
    /// Digits every code must be preceded by, when the installer configured a prefix (doc §2.2).
    public var codePrefix: String
    public var integraFirmware: FirmwareVersion
    public var moduleFirmware: FirmwareVersion
    /// 0x7C byte 11. Bit 0 (32-byte lists) is what lets a 256 Plus answer in the extended form.
    public var moduleCapabilities: UInt8
    /// Records the ring buffer holds before the oldest is overwritten.
    public var eventLogCapacity: Int
    public var unknownCommandPolicy: UnknownCommandPolicy
    /// How the module answers a monitoring request (push mode).
    public var monitoringPolicy: MonitoringPolicy = .serve
    /// 0x7E language byte (1 = English).
    public var languageCode: UInt8

    public init(
        model: PanelModel, zones: [SimulatedZone], partitionNames: [String], outputNames: [String],
        users: [SimulatedUser], codePrefix: String = "", integraFirmware: FirmwareVersion = FirmwareVersion(raw: "12320120527"),
        moduleFirmware: FirmwareVersion = FirmwareVersion(raw: "20520180111"), moduleCapabilities: UInt8? = nil,
        eventLogCapacity: Int = 1024, unknownCommandPolicy: UnknownCommandPolicy = .otherError, languageCode: UInt8 = 1
    ) {
        self.model = model
        self.zones = zones
        self.partitionNames = partitionNames
        self.outputNames = outputNames
        self.users = users
        self.codePrefix = codePrefix
        self.integraFirmware = integraFirmware
        self.moduleFirmware = moduleFirmware
        self.moduleCapabilities = moduleCapabilities ?? (model.hasMoreThan128Objects ? 0x01 : 0x00)
        self.eventLogCapacity = max(1, min(eventLogCapacity, 0xFF_0000))
        self.unknownCommandPolicy = unknownCommandPolicy
        self.languageCode = languageCode
    }

    /// A panel with `zoneCount` zones spread evenly over `partitionCount` partitions, `outputCount` outputs and
    /// user 1 with code 1234 allowed everything in every partition.
    public static func standard(
        model: PanelModel = .integra128, zoneCount: Int = 32, partitionCount: Int = 4, outputCount: Int = 8,
        users: [SimulatedUser]? = nil
    ) -> SimulatedPanelConfiguration {
        let zoneCount = min(zoneCount, model.zones)
        let partitionCount = max(1, min(partitionCount, model.partitions))
        let perPartition = max(1, (zoneCount + partitionCount - 1) / partitionCount)
        let zones = (0..<zoneCount).map { index in
            SimulatedZone(number: index + 1, name: "Zone \(index + 1)", partition: min(index / perPartition + 1, partitionCount))
        }
        return SimulatedPanelConfiguration(
            model: model,
            zones: zones,
            partitionNames: (1...partitionCount).map { "Partition \($0)" },
            outputNames: (0..<min(outputCount, model.outputs)).map { "Output \($0 + 1)" },
            users: users ?? [SimulatedUser(number: 1, code: "1234", partitions: Set(1...partitionCount))]
        )
    }

    /// The default of `stam simulator`: an INTEGRA 128 with 32 zones, 4 partitions, 8 outputs, user code 1234.
    public static let `default` = standard()

    func zone(_ number: Int) -> SimulatedZone? {
        number >= 1 && number <= zones.count ? zones[number - 1] : nil
    }

    /// Zone and output lists have 32 bytes only on a 256 Plus whose module can serve them (doc §3.5).
    var serves32ByteLists: Bool {
        model.typeCode == PanelModel.integra256Plus.typeCode && moduleCapabilities & 0x01 != 0
    }
}
