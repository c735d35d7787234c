import Satel
/// Control commands, arming and alarms of `SimulatedPanel`.
extension SimulatedPanel {
    /// Runs one control command for the user whose code came with it; returns the `EF` result code.
    mutating func control(_ command: ControlCommand, code: UserCode, now: Int64) -> ResultCode {
        guard let user = user(for: code) else { return .userCodeNotFound }
        switch command {
        case .arm(let mode, let partitions, let force, _):
            let wanted = permitted(partitions.numbers, for: user, right: .arm)
            guard !wanted.isEmpty else { return .noAccess }
            if !force {
                // A violated, unbypassed zone in a partition blocks normal arming; force arming is possible.
                let blocked = wanted.contains { partition in
                    configuration.zones.contains { zone in
                        zone.partition == partition && bitmaps[.zonesViolation]!.contains(zone.number)
                            && !bitmaps[.zonesBypass]!.contains(zone.number)
                    }
                }
                if blocked { return .cannotArmButForceIsPossible }
            }
            for partition in wanted {
                arm(partition: partition, mode: mode, user: user.number, now: now)
            }
            return .ok
        case .disarm(let partitions):
            let wanted = permitted(partitions.numbers, for: user, right: .disarm)
            guard !wanted.isEmpty else { return .noAccess }
            for partition in wanted {
                disarm(partition: partition, user: user.number, now: now)
            }
            return .accepted
        case .clearAlarm(let partitions):
            let wanted = permitted(partitions.numbers, for: user, right: .clearAlarm)
            guard !wanted.isEmpty else { return .noAccess }
            for partition in wanted {
                clearAlarm(partition: partition, user: user.number, now: now)
            }
            return .accepted
        case .bypassZones(let zones), .unbypassZones(let zones), .isolateZones(let zones):
            let bypass: Bool
            let target: StateCommand
            switch command {
            case .bypassZones: (bypass, target) = (true, .zonesBypass)
            case .unbypassZones: (bypass, target) = (false, .zonesBypass)
            default: (bypass, target) = (true, .zonesIsolate)
            }
            let allowed = zones.numbers.filter { number in
                guard let zone = configuration.zone(number) else { return false }
                return user.rights.contains(.bypass) && user.partitions.contains(zone.partition)
            }
            guard !allowed.isEmpty || zones.isEmpty else { return .noAccess }
            for number in allowed {
                set(target, number, bypass)
                if !bypass { set(.zonesIsolate, number, false) }
            }
            return .accepted
        case .outputsOn(let outputs), .outputsOff(let outputs), .outputsSwitch(let outputs):
            guard user.rights.contains(.outputs) else { return .noAccess }
            for number in outputs.numbers where number <= configuration.outputNames.count {
                let on: Bool = switch command {
                case .outputsOn: true
                case .outputsOff: false
                default: !bitmaps[.outputsState]!.contains(number)
                }
                set(.outputsState, number, on)
            }
            return .accepted
        case .openDoors:
            return .accepted
        case .clearTroubleMemory:
            for part in TroublePart.allCases where part.isMemory {
                if troubles[part]?.contains(where: { $0 != 0 }) == true {
                    troubles[part] = [UInt8](repeating: 0, count: part.answerLength)
                    markTroubleChanged(part)
                }
            }
            return .accepted
        case .setClock(let setting):
            guard user.rights.contains(.clock) else { return .noAccess }
            guard setting.isValid else { return .otherError }
            setClock(setting, now: now)
            return .accepted
        }
    }

    func user(for code: UserCode) -> SimulatedUser? {
        let digits = code.digitString
        return configuration.users.first { configuration.codePrefix + $0.code == digits }
    }

    /// The requested partitions this user may operate; others are ignored silently, as modules in the field
    /// do (doc §2.2).
    private func permitted(_ partitions: [Int], for user: SimulatedUser, right: SimulatedUser.Right) -> [Int] {
        guard user.rights.contains(right) else { return [] }
        return partitions.filter { isPartition($0) && user.partitions.contains($0) }
    }

    /// Exit delays are skipped: the partition is armed at once.
    mutating func arm(partition: Int, mode: ArmMode, user: Int, now: Int64) {
        let wasArmed = bitmaps[.partitionsArmed]!.contains(partition)
        set(.partitionsArmed, partition, true)
        set(.partitionsArmedSuppressed, partition, true)
        set(.partitionsArmedMode1, partition, mode == .mode1)
        set(.partitionsArmedMode2, partition, mode == .mode2)
        set(.partitionsArmedMode3, partition, mode == .mode3)
        // Arming clears the memory of the previous alarm in the partition.
        set(.partitionsAlarmMemory, partition, false)
        for zone in configuration.zones where zone.partition == partition {
            set(.zonesAlarmMemory, zone.number, false)
        }
        if !wasArmed {
            log(code: 401, restore: true, partition: partition, source: user, eventClass: .armingDisarmingAndAlarmClearing, now: now)
        }
    }

    /// Disarming an alarming partition also clears its alarm, as a code entered at a keypad does.
    mutating func disarm(partition: Int, user: Int, now: Int64) {
        let wasArmed = bitmaps[.partitionsArmed]!.contains(partition)
        for command: StateCommand in [.partitionsArmed, .partitionsArmedSuppressed, .partitionsArmedMode1, .partitionsArmedMode2, .partitionsArmedMode3] {
            set(command, partition, false)
        }
        if wasArmed {
            log(code: 401, restore: false, partition: partition, source: user, eventClass: .armingDisarmingAndAlarmClearing, now: now)
        }
        clearAlarm(partition: partition, user: user, now: now)
    }

    mutating func clearAlarm(partition: Int, user: Int, now: Int64) {
        let alarming = bitmaps[.partitionsAlarm]!.contains(partition) || bitmaps[.partitionsFireAlarm]!.contains(partition)
        set(.partitionsAlarm, partition, false)
        set(.partitionsFireAlarm, partition, false)
        for zone in configuration.zones where zone.partition == partition {
            set(.zonesAlarm, zone.number, false)
            set(.zonesTamperAlarm, zone.number, false)
        }
        if alarming {
            log(code: 406, restore: false, partition: partition, source: user, eventClass: .armingDisarmingAndAlarmClearing, now: now)
        }
    }

    /// A zone goes violated; it raises an alarm when its partition is armed (or the zone is a 24-hour one)
    /// and it is not bypassed.
    mutating func violate(zone number: Int, now: Int64) {
        guard let zone = configuration.zone(number), !bitmaps[.zonesViolation]!.contains(number) else { return }
        set(.zonesViolation, number, true)
        refreshPartitionsWithViolatedZones()
        guard !bitmaps[.zonesBypass]!.contains(number), !bitmaps[.zonesIsolate]!.contains(number) else { return }
        let armed = bitmaps[.partitionsArmed]!.contains(zone.partition)
        switch zone.reaction {
        case .burglary where armed, .alwaysArmed:
            set(.zonesAlarm, number, true)
            set(.zonesAlarmMemory, number, true)
            set(.partitionsAlarm, zone.partition, true)
            set(.partitionsAlarmMemory, zone.partition, true)
            log(code: zone.reaction == .alwaysArmed ? 133 : 130, restore: false, partition: zone.partition, source: number,
                eventClass: .zoneAndTamperAlarms, now: now)
        case .fire:
            set(.zonesAlarm, number, true)
            set(.zonesAlarmMemory, number, true)
            set(.partitionsFireAlarm, zone.partition, true)
            set(.partitionsFireAlarmMemory, zone.partition, true)
            log(code: 110, restore: false, partition: zone.partition, source: number, eventClass: .zoneAndTamperAlarms, now: now)
        default:
            break
        }
    }

    mutating func refreshPartitionsWithViolatedZones() {
        let violated = bitmaps[.zonesViolation]!
        for partition in 1...max(1, configuration.partitionNames.count) {
            let any = configuration.zones.contains { $0.partition == partition && violated.contains($0.number) }
            set(.partitionsWithViolatedZones, partition, any)
        }
    }

    func deviceName(kind: DeviceKind, number: Int) -> DeviceName? {
        func name(_ text: String) -> [UInt8] { Array(text.utf8.prefix(16)) }
        switch kind {
        case .partition:
            guard isPartition(number) else { return nil }
            return DeviceName(kind: kind, number: number, function: 0, rawName: name(configuration.partitionNames[number - 1]))
        case .zone, .zoneWithPartition:
            guard let zone = configuration.zone(number) else { return nil }
            return DeviceName(
                kind: kind, number: number, function: zone.reactionCode, rawName: name(zone.name),
                extra: kind == .zoneWithPartition ? UInt8(zone.partition) : nil)
        case .output:
            guard number >= 1 && number <= configuration.outputNames.count else { return nil }
            // 24 = MONO switch, a plain controllable output.
            return DeviceName(kind: kind, number: number, function: 24, rawName: name(configuration.outputNames[number - 1]))
        case .user:
            guard let user = configuration.users.first(where: { $0.number == number }) else { return nil }
            return DeviceName(kind: kind, number: number, function: 0, rawName: name("User \(user.number)"), extra: UInt8(128))
        default:
            return nil
        }
    }
}
