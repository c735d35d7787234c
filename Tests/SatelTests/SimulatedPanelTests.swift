import Testing
@testable import Satel
@testable import SatelSimulator

@Suite struct SimulatedPanelTests {
    static let now: Int64 = 1_778_012_310  // 2026-05-05 20:18:30 UTC
    static let code = UserCode("1234")!
    static func partitions(_ numbers: Int...) -> ObjectBitmap { ObjectBitmap(numbers: numbers, byteCount: 4) }

    static func connected(_ configuration: SimulatedPanelConfiguration = .default) -> SimulatedPanel {
        var panel = SimulatedPanel(configuration: configuration)
        panel.connectionOpened()
        return panel
    }

    @Test func armWithAWrongCodeIsUserCodeNotFound() {
        var panel = Self.connected()
        let answers = panel.handle(.control(.arm(mode: .mode0, partitions: Self.partitions(1)), code: UserCode("9999")!), now: Self.now)
        #expect(answers == [.result(.userCodeNotFound)])
        #expect(panel.bitmaps[.partitionsArmed]!.isEmpty)
    }

    @Test(arguments: ArmMode.allCases)
    func armingSetsTheArmedAndModeBitmaps(mode: ArmMode) {
        var panel = Self.connected()
        #expect(panel.handle(.control(.arm(mode: mode, partitions: Self.partitions(2)), code: Self.code), now: Self.now) == [.result(.ok)])
        #expect(panel.bitmaps[.partitionsArmed]!.numbers == [2])
        #expect(panel.bitmaps[.partitionsArmedMode1]!.numbers == (mode == .mode1 ? [2] : []))
        #expect(panel.bitmaps[.partitionsArmedMode2]!.numbers == (mode == .mode2 ? [2] : []))
        #expect(panel.bitmaps[.partitionsArmedMode3]!.numbers == (mode == .mode3 ? [2] : []))
        let newest = panel.eventLog.newestFirst.first!
        #expect(newest.code == 401 && newest.isRestore && newest.source == 1 && newest.partition == 2)
    }

    @Test func aViolatedZoneBlocksArmingUnlessForced() {
        var panel = Self.connected()
        _ = panel.apply(.violateZone(3), now: Self.now)
        let arm = SatelRequest.control(.arm(mode: .mode0, partitions: Self.partitions(1)), code: Self.code)
        #expect(panel.handle(arm, now: Self.now) == [.result(.cannotArmButForceIsPossible)])
        let force = SatelRequest.control(.arm(mode: .mode0, partitions: Self.partitions(1), force: true), code: Self.code)
        #expect(panel.handle(force, now: Self.now) == [.result(.ok)])
        #expect(panel.bitmaps[.partitionsArmed]!.numbers == [1])
    }

    @Test func aUserWithoutRightsGetsNoAccess() {
        let users = [SimulatedUser(number: 2, code: "5555", partitions: [1], rights: [.disarm])]
        var panel = Self.connected(.standard(users: users))
        let answers = panel.handle(.control(.arm(mode: .mode0, partitions: Self.partitions(1)), code: UserCode("5555")!), now: Self.now)
        #expect(answers == [.result(.noAccess)])
    }

    @Test func codesNeedTheConfiguredPrefix() {
        var configuration = SimulatedPanelConfiguration.default
        configuration.codePrefix = "97"
        var panel = Self.connected(configuration)
        #expect(panel.handle(.control(.disarm(partitions: Self.partitions(1)), code: Self.code), now: Self.now) == [.result(.userCodeNotFound)])
        #expect(panel.handle(.control(.disarm(partitions: Self.partitions(1)), code: UserCode("1234", prefix: "97")!), now: Self.now) == [.result(.accepted)])
    }

    @Test func anArmedZoneViolationRaisesAnAlarmThatClearAlarmEnds() {
        var panel = Self.connected()
        _ = panel.handle(.control(.arm(mode: .mode0, partitions: Self.partitions(1)), code: Self.code), now: Self.now)
        _ = panel.apply(.violateZone(3), now: Self.now)
        #expect(panel.bitmaps[.zonesAlarm]!.numbers == [3])
        #expect(panel.bitmaps[.partitionsAlarm]!.numbers == [1])
        #expect(panel.bitmaps[.zonesAlarmMemory]!.numbers == [3])
        let alarm = panel.eventLog.newestFirst.first!
        #expect(alarm.code == 130 && alarm.source == 3 && alarm.eventClass == .zoneAndTamperAlarms)
        #expect(panel.handle(.control(.clearAlarm(partitions: Self.partitions(1)), code: Self.code), now: Self.now) == [.result(.accepted)])
        #expect(panel.bitmaps[.zonesAlarm]!.isEmpty && panel.bitmaps[.partitionsAlarm]!.isEmpty)
        #expect(panel.bitmaps[.partitionsArmed]!.numbers == [1])
        #expect(panel.eventLog.newestFirst.first!.code == 406)
    }

    @Test func aDisarmedOrBypassedZoneRaisesNoAlarm() {
        var panel = Self.connected()
        _ = panel.apply(.violateZone(3), now: Self.now)
        #expect(panel.bitmaps[.zonesAlarm]!.isEmpty)
        _ = panel.apply(.restoreZone(3), now: Self.now)
        _ = panel.handle(.control(.bypassZones(ObjectBitmap(numbers: [3], byteCount: 16)), code: Self.code), now: Self.now)
        _ = panel.handle(.control(.arm(mode: .mode0, partitions: Self.partitions(1)), code: Self.code), now: Self.now)
        _ = panel.apply(.violateZone(3), now: Self.now)
        #expect(panel.bitmaps[.zonesBypass]!.numbers == [3])
        #expect(panel.bitmaps[.zonesAlarm]!.isEmpty)
    }

    @Test func fireZonesAlarmWhileDisarmed() {
        var configuration = SimulatedPanelConfiguration.default
        configuration.zones[8].reaction = .fire
        var panel = Self.connected(configuration)
        _ = panel.apply(.violateZone(9), now: Self.now)
        #expect(panel.bitmaps[.partitionsFireAlarm]!.numbers == [2])
        #expect(panel.eventLog.newestFirst.first!.code == 110)
    }

    @Test func tamperRaisesATamperAlarm() {
        var panel = Self.connected()
        _ = panel.apply(.tamperZone(5), now: Self.now)
        #expect(panel.bitmaps[.zonesTamper]!.numbers == [5])
        #expect(panel.bitmaps[.zonesTamperAlarm]!.numbers == [5])
        #expect(panel.bitmaps[.partitionsAlarm]!.numbers == [1])
        #expect(panel.eventLog.newestFirst.first!.code == 144)
    }

    @Test func outputsSwitchOnOffAndToggle() {
        var panel = Self.connected()
        let outputs = ObjectBitmap(numbers: [1, 2, 9], byteCount: 16)
        #expect(panel.handle(.control(.outputsOn(outputs), code: Self.code), now: Self.now) == [.result(.accepted)])
        #expect(panel.bitmaps[.outputsState]!.numbers == [1, 2])
        _ = panel.handle(.control(.outputsSwitch(ObjectBitmap(numbers: [2, 3], byteCount: 32)), code: Self.code), now: Self.now)
        #expect(panel.bitmaps[.outputsState]!.numbers == [1, 3])
        _ = panel.handle(.control(.outputsOff(ObjectBitmap(numbers: [1], byteCount: 16)), code: Self.code), now: Self.now)
        #expect(panel.bitmaps[.outputsState]!.numbers == [3])
    }

    @Test func newDataBitsAreAllSetOnConnectAndClearWhenRead() {
        var panel = Self.connected()
        #expect(panel.handle(.readNewData(answerLength: 6), now: Self.now) == [.newData(NewDataFlags(bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]))])
        for state in StateCommand.allCases {
            _ = panel.handle(.readState(state), now: Self.now)
        }
        for part in TroublePart.allCases {
            _ = panel.handle(.readTroubles(part), now: Self.now)
        }
        _ = panel.handle(.readClockAndStatus, now: Self.now)
        guard case .newData(let flags) = panel.handle(.readNewData(answerLength: 6), now: Self.now).first else {
            Issue.record("no new-data answer"); return
        }
        #expect(flags.isEmpty)
        _ = panel.apply(.violateZone(1), now: Self.now)
        guard case .newData(let changed) = panel.handle(.readNewData(answerLength: 6), now: Self.now).first else {
            Issue.record("no new-data answer"); return
        }
        #expect(changed.commands == [0x00, 0x25])
    }

    @Test func only256PlusAnswersIn32Bytes() {
        var small = Self.connected()
        guard case .state(_, let sixteen) = small.handle(.readState(.zonesViolation, extended: true), now: Self.now).first else {
            Issue.record("no answer"); return
        }
        #expect(sixteen.bytes.count == 16)
        var big = Self.connected(.standard(model: .integra256Plus, zoneCount: 256, partitionCount: 32, outputCount: 256))
        _ = big.apply(.violateZone(200), now: Self.now)
        guard case .state(_, let wide) = big.handle(.readState(.zonesViolation, extended: true), now: Self.now).first,
            case .state(_, let narrow) = big.handle(.readState(.zonesViolation), now: Self.now).first
        else {
            Issue.record("no answer"); return
        }
        #expect(wide.bytes.count == 32 && wide.numbers == [200])
        #expect(narrow.bytes.count == 16 && narrow.isEmpty)
    }

    @Test func monitoringAcknowledgesDumpsAndPushesChanges() {
        var panel = Self.connected()
        let selection = NewDataFlags(commands: [0x00, 0x0A, 0x17], byteCount: 6)
        let answers = panel.handle(.startMonitoring(selection), now: Self.now)
        #expect(answers.map(\.commandCode.rawValue) == [0xEF, 0x00, 0x0A, 0x17])
        #expect(answers.first == .result(.ok))
        let pushes = panel.apply(.violateZone(4), now: Self.now)
        #expect(pushes == [.state(.zonesViolation, ObjectBitmap(numbers: [4], byteCount: 16))])
        let armAnswers = panel.handle(.control(.arm(mode: .mode0, partitions: Self.partitions(3)), code: Self.code), now: Self.now)
        #expect(armAnswers == [.result(.ok), .state(.partitionsArmed, Self.partitions(3))])
    }

    @Test func temperatureZonesAnswerAndOthersStaySilent() {
        var configuration = SimulatedPanelConfiguration.default
        configuration.zones[0].temperatureCelsius = 21.5
        var panel = Self.connected(configuration)
        #expect(panel.handle(.readZoneTemperature(zone: 1), now: Self.now) == [.zoneTemperature(ZoneTemperature(zone: 1, raw: 0x99))])
        #expect(panel.handle(.readZoneTemperature(zone: 2), now: Self.now).isEmpty)
    }

    @Test func namesAndVersions() {
        var panel = Self.connected()
        guard case .deviceName(let name) = panel.handle(.readDeviceName(.zoneWithPartition, number: 9), now: Self.now).first else {
            Issue.record("no name"); return
        }
        #expect(name.name == "Zone 9" && name.extra == 2)
        #expect(panel.handle(.readDeviceName(.zone, number: 33), now: Self.now) == [.result(.otherError)])
        guard case .integraVersion(let version) = panel.handle(.readIntegraVersion, now: Self.now).first else {
            Issue.record("no version"); return
        }
        #expect(version.model == .integra128)
    }

    @Test func theClockFollowsTimeAndCanBeSet() {
        var panel = Self.connected()
        guard case .clockAndStatus(let status) = panel.handle(.readClockAndStatus, now: Self.now).first else {
            Issue.record("no clock"); return
        }
        #expect(status.display == "2026-05-05 20:18:30")
        #expect(status.dayOfWeek == 1)
        let setting = ClockSetting(year: 2027, month: 1, day: 2, hour: 3, minute: 4, second: 5)
        #expect(panel.handle(.control(.setClock(setting), code: Self.code), now: Self.now) == [.result(.accepted)])
        guard case .clockAndStatus(let later) = panel.handle(.readClockAndStatus, now: Self.now + 10).first else {
            Issue.record("no clock"); return
        }
        #expect(later.display == "2027-01-02 03:04:15")
    }

    @Test func theEventLogWalksBackAcrossTheRingWrap() {
        var configuration = SimulatedPanelConfiguration.default
        configuration.eventLogCapacity = 8
        var panel = Self.connected(configuration)
        for source in 1...20 {
            _ = panel.apply(.logEvent(code: 999, restore: false, partition: 1, source: source), now: Self.now)
        }
        var sources: [Int] = []
        var indices: [UInt32] = []
        var index = EventLogIndex.newest
        while case .event(let answer) = panel.handle(.readEvent(index), now: Self.now).first, answer.record.isPresent {
            sources.append(answer.record.source)
            indices.append(answer.index.rawValue)
            index = answer.index
        }
        #expect(sources == Array((13...20).reversed()))
        // 20 records in 8 slots: the newest is slot 3, and the walk wraps from slot 0 to slot 7.
        #expect(indices == [3, 2, 1, 0, 7, 6, 5, 4])
    }
}
