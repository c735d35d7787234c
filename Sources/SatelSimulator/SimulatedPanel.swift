import Satel
/// The state and behaviour of one simulated INTEGRA panel behind its ETHM-1 module, as a value type.
///
/// Requests go in through `handle(_:now:)`, things happening on site through `apply(_:now:)`; both return the
/// frames to send: the answer first (if any), then monitoring pushes for the commands whose data changed.
/// It knows nothing of sockets, so tests and the fuzzer can drive it directly.
public struct SimulatedPanel: Sendable {
    public let configuration: SimulatedPanelConfiguration
    /// Every bitmap the panel reports, at full width (32 bytes for zones and outputs).
    public private(set) var bitmaps: [StateCommand: ObjectBitmap]
    public internal(set) var troubles: [TroublePart: [UInt8]]
    public private(set) var eventLog: EventLogRing
    /// The "new data" bits of 0x7F: set when a command's data changes, cleared when the command is read.
    public private(set) var newData: NewDataFlags
    /// The commands the connected client asked to have pushed (0x7F with 12/14 bytes), if any.
    public private(set) var monitoring: NewDataFlags?
    /// Seconds added to the host clock by 0x8E "set clock".
    public private(set) var clockOffset: Int64 = 0
    /// False while the module plays dead: requests are swallowed without an answer.
    public private(set) var answering = true
    /// Commands (by code) the module never answers: `setSilentCommands`, a fault mode for the client's fallbacks.
    public private(set) var silentCommands: Set<UInt8> = []
    /// Set by `silentAfterControl`: the next control command is carried out and then the module plays dead, so
    /// its client never learns the result (the "outcome unknown" case).
    public private(set) var silentAfterControl = false
    /// How monitoring requests are answered; starts as the configuration says.
    public private(set) var monitoringPolicy: MonitoringPolicy
    private var temperatures: [Int: Double]
    /// Commands changed since the last request or action, in the order they changed.
    var changed: [StateCommand] = []
    var troublesChanged = false

    public init(configuration: SimulatedPanelConfiguration) {
        self.configuration = configuration
        monitoringPolicy = configuration.monitoringPolicy
        var bitmaps: [StateCommand: ObjectBitmap] = [:]
        for command in StateCommand.allCases {
            let width = command.objectKind.hasExtendedForm ? 32 : command.objectKind.standardBitmapLength
            bitmaps[command] = ObjectBitmap(byteCount: width)
        }
        self.bitmaps = bitmaps
        var troubles: [TroublePart: [UInt8]] = [:]
        for part in TroublePart.allCases {
            troubles[part] = [UInt8](repeating: 0, count: part.answerLength)
        }
        self.troubles = troubles
        eventLog = EventLogRing(capacity: configuration.eventLogCapacity)
        newData = NewDataFlags(commands: [], byteCount: 7)
        temperatures = [:]
        for zone in configuration.zones {
            if let celsius = zone.temperatureCelsius { temperatures[zone.number] = celsius }
        }
    }

    // MARK: Connection lifecycle

    /// A client connected: everything counts as new (doc §3.6) and no monitoring is set up yet.
    public mutating func connectionOpened() {
        newData = NewDataFlags(bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x03])
        monitoring = nil
        changed = []
        troublesChanged = false
    }

    public mutating func connectionClosed() {
        monitoring = nil
    }

    // MARK: Requests

    /// Answers one request; an empty result means the module says nothing (as for 0x7D on a plain zone).
    public mutating func handle(_ request: SatelRequest, now: Int64) -> [SatelResponse] {
        guard answering, !silentCommands.contains(request.commandCode.rawValue) else { return [] }
        var answers: [SatelResponse] = []
        switch request {
        case .readState(let command, let extended):
            newData = clearing(command.rawValue, in: newData)
            answers.append(.state(command, bitmapForAnswer(command, extended: extended)))
        case .readTroubles(let part):
            newData = clearing(part.rawValue, in: newData)
            answers.append(.troubles(part, troubles[part] ?? []))
        case .readClockAndStatus:
            newData = clearing(SatelCommandCode.clockAndStatus.rawValue, in: newData)
            answers.append(.clockAndStatus(clockAndStatus(now: now)))
        case .readNewData(let answerLength):
            answers.append(.newData(NewDataFlags(bytes: Array(newData.bytes.prefix(answerLength)))))
        case .startMonitoring(let selection):
            switch monitoringPolicy {
            case .serve, .stopPushing:
                monitoring = selection
                answers.append(.result(.ok))
                // The module then sends every selected state once, and again whenever it changes (doc §3.7).
                answers += monitoredAnswers(for: selection.commands, now: now)
            case .refuse:
                answers.append(.result(.otherError))
            case .answerAsPoll:
                answers.append(.newData(NewDataFlags(bytes: Array(newData.bytes.prefix(selection.bytes.count)))))
            case .ignore:
                return []
            }
        case .readModuleVersion:
            answers.append(.moduleVersion(ModuleVersion(
                firmware: configuration.moduleFirmware, capabilities: configuration.moduleCapabilities)))
        case .readIntegraVersion:
            answers.append(.integraVersion(IntegraVersion(
                typeCode: configuration.model.typeCode, firmware: configuration.integraFirmware,
                languageCode: configuration.languageCode, settingsInFlash: true)))
        case .readZoneTemperature(let zone):
            if let celsius = temperatures[zone] {
                let raw = UInt16(max(0, min(0xFFFE, ((celsius + 55.0) * 2.0).rounded())))
                answers.append(.zoneTemperature(ZoneTemperature(zone: zone, raw: raw)))
            }
        case .readDeviceName(let kind, let number):
            answers.append(deviceName(kind: kind, number: number).map { .deviceName($0) } ?? .result(.otherError))
        case .readEvent(let index):
            answers.append(.event(eventLog.answer(for: index)))
        case .readEventText(let code, let restore, let long):
            let text = EventDescriptions.text(code: code, restore: restore)
            answers.append(.eventText(EventText(
                code: code, restore: restore, long: long, longDescriptionKind: 1, shortDescriptionKind: 0,
                rawText: Array(text.utf8))))
        case .control(let command, let code):
            let result = control(command, code: code, now: now)
            if silentAfterControl {
                silentAfterControl = false
                answering = false
                return []
            }
            answers.append(.result(result))
        }
        return answers + drainPushes(now: now)
    }

    /// The answer to a frame that is not a request we understand.
    public func answerToUnknown() -> [SatelResponse] {
        guard answering else { return [] }
        return configuration.unknownCommandPolicy == .otherError ? [.result(.otherError)] : []
    }

    // MARK: Things happening on site

    public mutating func apply(_ action: PanelAction, now: Int64) -> [SatelResponse] {
        switch action {
        case .violateZone(let number):
            violate(zone: number, now: now)
        case .restoreZone(let number):
            guard configuration.zone(number) != nil else { break }
            set(.zonesViolation, number, false)
            refreshPartitionsWithViolatedZones()
        case .tamperZone(let number):
            guard let zone = configuration.zone(number) else { break }
            set(.zonesTamper, number, true)
            set(.zonesTamperAlarm, number, true)
            set(.zonesTamperAlarmMemory, number, true)
            set(.partitionsAlarm, zone.partition, true)
            set(.partitionsAlarmMemory, zone.partition, true)
            log(code: 144, restore: false, partition: zone.partition, source: number, eventClass: .zoneAndTamperAlarms, now: now)
        case .restoreTamper(let number):
            guard let zone = configuration.zone(number) else { break }
            set(.zonesTamper, number, false)
            log(code: 144, restore: true, partition: zone.partition, source: number, eventClass: .zoneAndTamperAlarms, now: now)
        case .setOutput(let number, let on):
            if number >= 1 && number <= configuration.outputNames.count {
                set(.outputsState, number, on)
            }
        case .armAtKeypad(let partitions, let mode, let user):
            for partition in partitions where isPartition(partition) {
                arm(partition: partition, mode: mode, user: user, now: now)
            }
        case .disarmAtKeypad(let partitions, let user):
            for partition in partitions where isPartition(partition) {
                disarm(partition: partition, user: user, now: now)
            }
        case .setTrouble(let part, let bit, let active):
            guard var bytes = troubles[part], bit >= 1, bit <= bytes.count * 8 else { break }
            var bitmap = ObjectBitmap(bytes: bytes)
            bitmap.set(bit, to: active)
            bytes = bitmap.bytes
            if bytes != troubles[part] {
                troubles[part] = bytes
                markTroubleChanged(part)
                if active, let memory = TroublePart(rawValue: memoryPart(of: part)) {
                    var memoryBitmap = ObjectBitmap(bytes: troubles[memory] ?? [])
                    memoryBitmap.insert(bit)
                    troubles[memory] = memoryBitmap.bytes
                    markTroubleChanged(memory)
                }
            }
        case .setTemperature(let zone, let celsius):
            temperatures[zone] = celsius
        case .setAnswering(let on):
            answering = on
        case .setSilentCommands(let commands):
            silentCommands = commands
        case .silentAfterControl:
            silentAfterControl = true
        case .setMonitoringPolicy(let policy):
            monitoringPolicy = policy
        case .reportToStation(let station):
            eventLog.markReported(toStation: station)
        case .logEvent(let code, let restore, let partition, let source):
            log(code: code, restore: restore, partition: partition, source: source, eventClass: .systemEvents, now: now)
        }
        return drainPushes(now: now)
    }

    // MARK: Helpers

    func isPartition(_ number: Int) -> Bool {
        number >= 1 && number <= configuration.partitionNames.count
    }

    mutating func set(_ command: StateCommand, _ number: Int, _ value: Bool) {
        guard var bitmap = bitmaps[command], bitmap.contains(number) != value else { return }
        bitmap.set(number, to: value)
        bitmaps[command] = bitmap
        markChanged(command)
    }

    mutating func markChanged(_ command: StateCommand) {
        var bytes = newData.bytes
        bytes[Int(command.rawValue) / 8] |= 1 << (command.rawValue % 8)
        newData = NewDataFlags(bytes: bytes)
        if !changed.contains(command) { changed.append(command) }
    }

    mutating func markTroubleChanged(_ part: TroublePart) {
        let byte = Int(part.rawValue) / 8
        if byte < newData.bytes.count {
            var bytes = newData.bytes
            bytes[byte] |= 1 << (part.rawValue % 8)
            newData = NewDataFlags(bytes: bytes)
        }
        troublesChanged = true
        pendingTroubleParts.insert(part)
    }

    var pendingTroubleParts: Set<TroublePart> = []

    private func memoryPart(of part: TroublePart) -> UInt8 {
        switch part {
        case .part1, .part2, .part3, .part4, .part5: part.rawValue + 5
        case .part6, .part7: part.rawValue + 2
        case .part8: 0x31
        default: part.rawValue
        }
    }

    private func clearing(_ command: UInt8, in flags: NewDataFlags) -> NewDataFlags {
        let byte = Int(command) / 8
        guard byte < flags.bytes.count else { return flags }
        var bytes = flags.bytes
        bytes[byte] &= ~(1 << (command % 8))
        return NewDataFlags(bytes: bytes)
    }

    /// The bitmap as this panel answers it: 32 bytes only on a 256 Plus asked for the extended form.
    func bitmapForAnswer(_ command: StateCommand, extended: Bool) -> ObjectBitmap {
        let bitmap = bitmaps[command] ?? ObjectBitmap(byteCount: command.objectKind.standardBitmapLength)
        guard command.objectKind.hasExtendedForm else { return bitmap }
        return bitmap.resized(to: extended && configuration.serves32ByteLists ? 32 : 16)
    }

    private mutating func monitoredAnswers(for commands: [UInt8], now: Int64) -> [SatelResponse] {
        var answers: [SatelResponse] = []
        for command in commands {
            if let state = StateCommand(rawValue: command) {
                newData = clearing(command, in: newData)
                // Pushed lists come in 32 bytes from modules that can serve them (seen in HA #169738).
                answers.append(.state(state, bitmapForAnswer(state, extended: true)))
            } else if let part = TroublePart(rawValue: command) {
                newData = clearing(command, in: newData)
                answers.append(.troubles(part, troubles[part] ?? []))
            } else if command == SatelCommandCode.clockAndStatus.rawValue {
                newData = clearing(command, in: newData)
                answers.append(.clockAndStatus(clockAndStatus(now: now)))
            }
        }
        return answers
    }

    /// Pushes for what changed, when monitoring asks for it; the changes are forgotten either way.
    private mutating func drainPushes(now: Int64) -> [SatelResponse] {
        defer {
            changed = []
            pendingTroubleParts = []
            troublesChanged = false
        }
        guard let monitoring, monitoringPolicy != .stopPushing else { return [] }
        var commands = changed.map(\.rawValue).filter { monitoring.contains($0) }
        if troublesChanged {
            commands += pendingTroubleParts.map(\.rawValue).sorted().filter { monitoring.contains($0) }
        }
        return monitoredAnswers(for: commands, now: now)
    }

    func clockAndStatus(now: Int64) -> ClockAndStatus {
        let time = CivilTime(unixSeconds: now + clockOffset)
        let troublesPresent = TroublePart.currentParts.contains { part in troubles[part]?.contains { $0 != 0 } ?? false }
        return ClockAndStatus(
            year: time.year, month: time.month, day: time.day, hour: time.hour, minute: time.minute,
            second: time.second, dayOfWeek: time.dayOfWeek, troublesPresent: troublesPresent,
            panelBaseType: configuration.model.baseType)
    }

    mutating func setClock(_ setting: ClockSetting, now: Int64) {
        let wanted = CivilTime.unixSeconds(
            year: setting.year, month: setting.month, day: setting.day, hour: setting.hour, minute: setting.minute,
            second: setting.second)
        clockOffset = wanted - now
        markClockChanged()
    }

    private mutating func markClockChanged() {
        var bytes = newData.bytes
        bytes[3] |= 1 << (SatelCommandCode.clockAndStatus.rawValue % 8)
        newData = NewDataFlags(bytes: bytes)
    }

    mutating func log(code: Int, restore: Bool, partition: Int, source: Int, eventClass: EventRecord.EventClass, now: Int64) {
        let time = CivilTime(unixSeconds: now + clockOffset)
        eventLog.append(EventRecord(
            yearModulo4: time.year % 4, month: time.month, day: time.day, minuteOfDay: time.hour * 60 + time.minute,
            eventClass: eventClass, partitionField: max(0, partition - 1), restore: restore, code: code, source: source))
    }
}
