import Satel
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Yams

/// A scenario file for `stam simulator --scenario FILE`: the panel to simulate and a timeline of things that
/// happen at its premises.
///
/// ```yaml
/// panel:
///   model: INTEGRA 128          # or a type code, e.g. 72
///   zones: 32
///   partitions: 4
///   outputs: 8
///   codePrefix: ""
///   eventLogCapacity: 1024
///   unknownCommands: otherError  # or silent
///   monitoring: serve            # refuse, answer-as-poll, ignore or stop-pushing: how a monitoring request is answered
///   users:
///     - { number: 1, code: "1234", partitions: [1, 2, 3, 4], rights: [arm, disarm, clearAlarm, bypass, outputs, clock] }
///   zoneSettings:
///     - { number: 3, name: Front door, partition: 1, reaction: burglary }
///     - { number: 9, reaction: fire, temperature: 21.5 }
/// steps:
///   - { at: 2s, action: violate-zone, zone: 3 }
///   - { at: 4s, action: restore-zone, zone: 3 }
///   - { at: 5s, action: tamper-zone, zone: 4 }
///   - { at: 6s, action: arm, partitions: [1], mode: 0, user: 1 }
///   - { at: 7s, action: output, output: 2, on: true }
///   - { at: 8s, action: trouble, part: 1, bit: 328, active: true }
///   - { at: 9s, action: temperature, zone: 9, celsius: 22 }
/// ```
public struct SimulatorScenario: Hashable, Sendable {
    public var panel: SimulatedPanelConfiguration
    public var steps: [Step]

    public struct Step: Hashable, Sendable {
        /// Seconds after the simulator started.
        public var at: Double
        public var action: PanelAction

        public init(at: Double, action: PanelAction) {
            self.at = at
            self.action = action
        }
    }

    public init(panel: SimulatedPanelConfiguration = .default, steps: [Step] = []) {
        self.panel = panel
        self.steps = steps
    }

    /// Reads a scenario file; errors name the step or setting that is wrong.
    public static func load(path: String) throws -> SimulatorScenario {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SimulatorScenarioError(message: "cannot read scenario file \(path)")
        }
        return try parse(yaml: String(decoding: data, as: UTF8.self))
    }

    public static func parse(yaml: String) throws -> SimulatorScenario {
        let file: ScenarioFile
        do {
            file = try YAMLDecoder().decode(ScenarioFile.self, from: yaml)
        } catch {
            throw SimulatorScenarioError(message: "scenario YAML: \(error)")
        }
        return try file.resolve()
    }
}

/// A scenario file that does not describe a valid panel or timeline.
public struct SimulatorScenarioError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// The YAML shape, decoded leniently and then checked by `resolve()`.
struct ScenarioFile: Decodable {
    struct Panel: Decodable {
        var model: String?
        var zones: Int?
        var partitions: Int?
        var outputs: Int?
        var codePrefix: String?
        var eventLogCapacity: Int?
        var unknownCommands: UnknownCommandPolicy?
        var monitoring: MonitoringPolicy?
        var moduleCapabilities: UInt8?
        var users: [User]?
        var zoneSettings: [ZoneSetting]?
    }

    struct User: Decodable {
        var number: Int
        var code: String
        var partitions: [Int]
        var rights: [SimulatedUser.Right]?
    }

    struct ZoneSetting: Decodable {
        var number: Int
        var name: String?
        var partition: Int?
        var reaction: SimulatedZone.Reaction?
        var temperature: Double?
    }

    struct Step: Decodable {
        /// Control-port lines decode steps without `at`.
        static let atIsOptional = CodingUserInfoKey(rawValue: "atIsOptional")!

        var at: Duration
        var action: String
        var zone: Int?
        var output: Int?
        var on: Bool?
        var partitions: [Int]?
        /// `silent-on`: command codes.
        var commands: [Int]?
        var mode: UInt8?
        var user: Int?
        var part: Int?
        var bit: Int?
        var active: Bool?
        var celsius: Double?
        var code: Int?
        var restore: Bool?
        var partition: Int?
        var source: Int?
        var station: Int?
        /// `monitoring`: serve, refuse, ignore or stop-pushing.
        var policy: String?

        private enum CodingKeys: String, CodingKey {
            case at, action, zone, output, on, partitions, commands, mode, user, part, bit, active, celsius, code, restore, partition, source, station
            case policy
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            if decoder.userInfo[Self.atIsOptional] as? Bool == true {
                at = try container.decodeIfPresent(Duration.self, forKey: .at) ?? Duration(seconds: 0)
            } else {
                at = try container.decode(Duration.self, forKey: .at)
            }
            action = try container.decode(String.self, forKey: .action)
            zone = try container.decodeIfPresent(Int.self, forKey: .zone)
            output = try container.decodeIfPresent(Int.self, forKey: .output)
            on = try container.decodeIfPresent(Bool.self, forKey: .on)
            partitions = try container.decodeIfPresent([Int].self, forKey: .partitions)
            commands = try container.decodeIfPresent([Int].self, forKey: .commands)
            mode = try container.decodeIfPresent(UInt8.self, forKey: .mode)
            user = try container.decodeIfPresent(Int.self, forKey: .user)
            part = try container.decodeIfPresent(Int.self, forKey: .part)
            bit = try container.decodeIfPresent(Int.self, forKey: .bit)
            active = try container.decodeIfPresent(Bool.self, forKey: .active)
            celsius = try container.decodeIfPresent(Double.self, forKey: .celsius)
            code = try container.decodeIfPresent(Int.self, forKey: .code)
            restore = try container.decodeIfPresent(Bool.self, forKey: .restore)
            partition = try container.decodeIfPresent(Int.self, forKey: .partition)
            source = try container.decodeIfPresent(Int.self, forKey: .source)
            station = try container.decodeIfPresent(Int.self, forKey: .station)
            policy = try container.decodeIfPresent(String.self, forKey: .policy)
        }
    }

    /// `2s`, `500ms`, `1.5` (seconds) or `1m`.
    struct Duration: Decodable {
        var seconds: Double

        init(seconds: Double) {
            self.seconds = seconds
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Double.self) {
                seconds = number
                return
            }
            let text = try container.decode(String.self).trimmingCharacters(in: .whitespaces)
            let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60)]
            for (suffix, scale) in units where text.hasSuffix(suffix) {
                if let value = Double(text.dropLast(suffix.count)) {
                    seconds = value * scale
                    return
                }
            }
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a duration: \(text)")
        }
    }

    var panel: Panel?
    var steps: [Step]?

    func resolve() throws -> SimulatorScenario {
        let panelFile = panel ?? Panel()
        var model = PanelModel.integra128
        if let name = panelFile.model {
            guard let found = PanelModel.named(name) else {
                throw SimulatorScenarioError(message: "panel.model: unknown model '\(name)'")
            }
            model = found
        }
        let users = try panelFile.users?.map { user -> SimulatedUser in
            guard UserCode(user.code) != nil else {
                throw SimulatorScenarioError(message: "panel.users: user \(user.number) code must be 1-16 digits")
            }
            return SimulatedUser(
                number: user.number, code: user.code, partitions: Set(user.partitions),
                rights: Set(user.rights ?? SimulatedUser.Right.allCases))
        }
        var configuration = SimulatedPanelConfiguration.standard(
            model: model, zoneCount: panelFile.zones ?? 32, partitionCount: panelFile.partitions ?? 4,
            outputCount: panelFile.outputs ?? 8, users: users)
        configuration.codePrefix = panelFile.codePrefix ?? ""
        if let capacity = panelFile.eventLogCapacity { configuration.eventLogCapacity = max(1, capacity) }
        if let policy = panelFile.unknownCommands { configuration.unknownCommandPolicy = policy }
        if let policy = panelFile.monitoring { configuration.monitoringPolicy = policy }
        if let capabilities = panelFile.moduleCapabilities { configuration.moduleCapabilities = capabilities }
        for setting in panelFile.zoneSettings ?? [] {
            guard setting.number >= 1 && setting.number <= configuration.zones.count else {
                throw SimulatorScenarioError(message: "panel.zoneSettings: no zone \(setting.number)")
            }
            var zone = configuration.zones[setting.number - 1]
            if let name = setting.name { zone.name = name }
            if let partition = setting.partition { zone.partition = partition }
            if let reaction = setting.reaction { zone.reaction = reaction }
            if let temperature = setting.temperature { zone.temperatureCelsius = temperature }
            configuration.zones[setting.number - 1] = zone
        }
        let steps = try (steps ?? []).enumerated().map { index, step in
            SimulatorScenario.Step(at: step.at.seconds, action: try step.panelAction(stepNumber: index + 1))
        }
        return SimulatorScenario(panel: configuration, steps: steps.sorted { $0.at < $1.at })
    }
}

extension ScenarioFile.Step {
    func panelAction(stepNumber: Int) throws -> PanelAction {
        func need<Value>(_ value: Value?, _ key: String) throws -> Value {
            guard let value else {
                throw SimulatorScenarioError(message: "steps[\(stepNumber)] (\(action)): missing '\(key)'")
            }
            return value
        }
        switch action {
        case "violate-zone": return .violateZone(try need(zone, "zone"))
        case "restore-zone": return .restoreZone(try need(zone, "zone"))
        case "tamper-zone", "tamper": return .tamperZone(try need(zone, "zone"))
        case "restore-tamper": return .restoreTamper(try need(zone, "zone"))
        case "output": return .setOutput(try need(output, "output"), on: try need(on, "on"))
        case "arm":
            guard let mode = ArmMode(rawValue: mode ?? 0) else {
                throw SimulatorScenarioError(message: "steps[\(stepNumber)] (arm): mode must be 0-3")
            }
            return .armAtKeypad(partitions: try need(partitions, "partitions"), mode: mode, user: user ?? 1)
        case "disarm": return .disarmAtKeypad(partitions: try need(partitions, "partitions"), user: user ?? 1)
        case "trouble":
            let number = try need(part, "part")
            guard let troublePart = TroublePart.currentParts.first(where: { $0.name == "troubles part \(number)" }) else {
                throw SimulatorScenarioError(message: "steps[\(stepNumber)] (trouble): part must be 1-7")
            }
            return .setTrouble(troublePart, bit: try need(bit, "bit"), active: active ?? true)
        case "temperature": return .setTemperature(zone: try need(zone, "zone"), celsius: celsius)
        case "report-to-station":
            let number = station ?? 1
            guard number == 1 || number == 2 else {
                throw SimulatorScenarioError(message: "steps[\(stepNumber)] (report-to-station): station must be 1 or 2")
            }
            return .reportToStation(number)
        case "silent-after-control": return .silentAfterControl
        case "stop-answering": return .setAnswering(false)
        case "resume-answering": return .setAnswering(true)
        case "silent-on":
            // `commands: [0x1C, 0x28]`: the codes the module will not answer; `[]` answers everything again.
            guard let commands, commands.allSatisfy({ (0...0xFF).contains($0) }) else {
                throw SimulatorScenarioError(message: "steps[\(stepNumber)] (silent-on): commands must be a list of command codes 0-255")
            }
            return .setSilentCommands(Set(commands.map(UInt8.init)))
        case "monitoring":
            let names = MonitoringPolicy.allCases.map(\.rawValue).joined(separator: ", ")
            guard let policy = MonitoringPolicy(rawValue: try need(policy, "policy")) else {
                throw SimulatorScenarioError(message: "steps[\(stepNumber)] (monitoring): policy must be one of \(names)")
            }
            return .setMonitoringPolicy(policy)
        case "event":
            return .logEvent(code: try need(code, "code"), restore: restore ?? false, partition: partition ?? 1, source: source ?? 0)
        default:
            throw SimulatorScenarioError(message: "steps[\(stepNumber)]: unknown action '\(action)'")
        }
    }
}
