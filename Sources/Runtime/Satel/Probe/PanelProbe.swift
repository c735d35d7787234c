import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The installer's probe: connect once, identify, read the state and the newest event-log records,
/// disconnect. `stam panel probe` calls `run` and prints the report with `PanelProbeRenderer`.
public enum PanelProbe {
    /// Probes a module (or the simulator). Throws `PanelProbeFailure` with a plain reason.
    public static func run(
        _ options: PanelProbeOptions, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(PanelProbeFailure) -> PanelProbeReport {
        let configuration = SatelClientConfiguration(
            host: options.host, port: options.port, integrationKey: options.integrationKey, pollInterval: .seconds(15),
            requestTimeout: options.requestTimeout, connectTimeout: .seconds(10),
            eventLogStart: .newestRecords(options.eventCount), followEventLog: false,
            maximumEventsPerBatch: max(1, options.eventCount), reconnect: false)
        let client = SatelClient(configuration: configuration, group: group)
        let result: Result<PanelProbeReport, PanelProbeFailure>
        do {
            result = try await withThrowingTaskGroup(of: Result<PanelProbeReport, PanelProbeFailure>?.self) { tasks in
                tasks.addTask {
                    try await client.run()
                    return nil
                }
                tasks.addTask {
                    await collect(client: client, options: options)
                }
                tasks.addTask {
                    try await Task.sleep(for: .nanoseconds(options.overallTimeout.nanoseconds))
                    return .failure(PanelProbeFailure(reason: .noAnswer, detail: "the probe did not finish within \(options.overallTimeout.nanoseconds / 1_000_000_000) s"))
                }
                var outcome: Result<PanelProbeReport, PanelProbeFailure>?
                while outcome == nil, let next = try await tasks.next() {
                    outcome = next
                }
                client.shutdown()
                tasks.cancelAll()
                return outcome ?? .failure(PanelProbeFailure(reason: .noAnswer, detail: "the connection ended"))
            }
        } catch {
            result = .failure(PanelProbeFailure(reason: .noAnswer, detail: "\(error)"))
        }
        return try result.get()
    }

    /// Follows the client's updates until the first full read, then reads names and builds the report.
    private static func collect(client: SatelClient, options: PanelProbeOptions) async -> Result<PanelProbeReport, PanelProbeFailure> {
        var events: [LoggedEvent] = []
        var notServed: [PanelProbeReport.NotServed] = []
        var delivery: StateDelivery?
        for await updates in client.updates {
            for update in updates {
                switch update {
                case .stateDelivery(let decided):
                    delivery = decided
                case .events(let batch):
                    events += batch.events
                case .commandUnsupported(let command):
                    notServed.append(.init(code: Int(command.code), command: command.name, reason: command.reason.rawValue))
                case .connection(.disconnected(let error, _)):
                    return .failure(PanelProbeFailure(error))
                case .connection(.synchronized):
                    let snapshot = client.snapshot
                    var names: [DeviceKind: [Int: String]] = [:]
                    if options.readNames {
                        let read = await readNames(client: client, snapshot: snapshot)
                        names = read.names
                        if let failure = read.failure {
                            notServed.append(.init(code: Int(SatelCommandCode.readDeviceName.rawValue), command: SatelCommandCode.readDeviceName.name,
                                                   reason: failure))
                        }
                    }
                    var result = report(options: options, snapshot: snapshot, events: events, names: names)
                    result.notServed = notServed
                    result.stateDelivery = delivery.map(PanelProbeReport.StateDeliveryFinding.init)
                    return .success(result)
                default:
                    continue
                }
            }
        }
        return .failure(PanelProbeFailure(reason: .noAnswer, detail: "the connection ended before the panel was read"))
    }

    /// Names of the zones, partitions and outputs the report lists (at most 64 requests). A name read the module
    /// does not answer ends the link (a caller's request is not retried), so the names stop there and say why.
    private static func readNames(client: SatelClient, snapshot: PanelSnapshot) async -> (names: [DeviceKind: [Int: String]], failure: String?) {
        var wanted: [(DeviceKind, Int)] = []
        let zones = Set(snapshot.objects(.zonesViolation) + snapshot.objects(.zonesBypass) + snapshot.objects(.zonesAlarm) + snapshot.objects(.zonesTamper))
        wanted += zones.sorted().map { (.zone, $0) }
        let partitions = Set(snapshot.objects(.partitionsArmed) + snapshot.objects(.partitionsAlarm) + snapshot.objects(.partitionsFireAlarm))
        wanted += partitions.sorted().map { (.partition, $0) }
        wanted += snapshot.objects(.outputsState).map { (.output, $0) }
        var names: [DeviceKind: [Int: String]] = [:]
        for (kind, number) in wanted.prefix(64) {
            let answer: SatelResponse
            do {
                answer = try await client.send(.readDeviceName(kind, number: number))
            } catch let error as SatelClientError where error.code == .protocolViolation {
                continue  // an answer that did not decode; the link is still up
            } catch {
                return (names, "unanswered")
            }
            guard case .deviceName(let name) = answer else { continue }
            names[kind, default: [:]][number] = name.name
        }
        return (names, nil)
    }

    static func report(
        options: PanelProbeOptions, snapshot: PanelSnapshot, events: [LoggedEvent], names: [DeviceKind: [Int: String]]
    ) -> PanelProbeReport {
        let identity = snapshot.identity
        let model = identity?.model ?? PanelModel.forTypeCode(0xFF)
        func objects(_ command: StateCommand, _ kind: DeviceKind) -> [PanelProbeReport.Object] {
            snapshot.objects(command).map { PanelProbeReport.Object(number: $0, name: names[kind]?[$0]) }
        }
        let currentYear = snapshot.clock?.year ?? 2000
        let decoded = events.reversed().map { event -> PanelProbeReport.Event in
            let record = event.record
            func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
            return PanelProbeReport.Event(
                index: event.index.description,
                time: "\(record.year(near: currentYear))-\(two(record.month))-\(two(record.day)) \(two(record.hour)):\(two(record.minute))",
                eventClass: record.eventClass.name, code: record.code, restore: record.isRestore,
                description: record.descriptionText, partition: record.partition, source: record.source, object: record.object,
                userControlNumber: record.userControlNumber, raw: SatelHex.string(record.raw))
        }
        return PanelProbeReport(
            host: options.host, port: options.port, encrypted: options.integrationKey != nil, model: model.name,
            typeCode: Int(model.typeCode), panelFirmware: identity?.integra.firmware.display ?? "unknown",
            moduleFirmware: identity?.module?.firmware.display, moduleCapabilities: identity?.module.map { Int($0.capabilities) },
            uses32ByteLists: identity?.uses32ByteLists ?? false,
            capacities: .init(partitions: model.partitions, zones: model.zones, outputs: model.outputs, users: model.users),
            panelClock: snapshot.clock?.display,
            violatedZones: objects(.zonesViolation, .zone), bypassedZones: objects(.zonesBypass, .zone),
            zonesInAlarm: objects(.zonesAlarm, .zone), tamperedZones: objects(.zonesTamper, .zone),
            armedPartitions: snapshot.armedPartitions.map {
                PanelProbeReport.ArmedPartition(
                    number: $0.partition, name: names[.partition]?[$0.partition], mode: Int($0.mode.rawValue), modeName: $0.mode.name)
            },
            partitionsInAlarm: Array(Set(snapshot.objects(.partitionsAlarm) + snapshot.objects(.partitionsFireAlarm))).sorted().map {
                PanelProbeReport.Object(number: $0, name: names[.partition]?[$0])
            },
            outputsOn: objects(.outputsState, .output), troubles: snapshot.troubles, events: decoded)
    }
}
