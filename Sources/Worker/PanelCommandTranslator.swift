import Generated
import Satel
import StamCore

/// Turns a `Command` row into the SATEL control command. Targets are the JSON array of numbers the API
/// stored (partitions, zones or outputs, by kind).
enum PanelCommandTranslator {
    static func controlCommand(kind: CommandKind, armMode: Int?, targets: JSONValue) throws -> ControlCommand {
        let numbers = try numbers(targets)
        switch kind {
        case .arm, .forceArm:
            guard let mode = Satel.ArmMode(rawValue: UInt8(clamping: armMode ?? 0)), (0...3).contains(armMode ?? 0) else {
                throw WorkerError(.invalidCommand, "arm mode \(armMode ?? -1) is not 0-3")
            }
            return .arm(mode: mode, partitions: try bitmap(numbers, upTo: 32, bytes: 4), force: kind == .forceArm)
        case .disarm: return .disarm(partitions: try bitmap(numbers, upTo: 32, bytes: 4))
        case .clearAlarm: return .clearAlarm(partitions: try bitmap(numbers, upTo: 32, bytes: 4))
        case .bypassZones: return .bypassZones(try list(numbers))
        case .unbypassZones: return .unbypassZones(try list(numbers))
        case .outputsOn: return .outputsOn(try list(numbers))
        case .outputsOff: return .outputsOff(try list(numbers))
        case .outputsSwitch: return .outputsSwitch(try list(numbers))
        case .clearTroubleMemory: return .clearTroubleMemory
        }
    }

    private static func numbers(_ targets: JSONValue) throws -> [Int] {
        guard case .array(let values) = targets else {
            throw WorkerError(.invalidCommand, "targets must be an array of numbers")
        }
        return try values.map { value in
            guard case .number(let number) = value, number == number.rounded(), number >= 1 else {
                throw WorkerError(.invalidCommand, "target \(value) is not a positive whole number")
            }
            return Int(number)
        }
    }

    /// Zone and output lists: 16 bytes, or 32 when a number above 128 needs them (INTEGRA 256 Plus).
    private static func list(_ numbers: [Int]) throws -> ObjectBitmap {
        try bitmap(numbers, upTo: 256, bytes: (numbers.max() ?? 0) > 128 ? 32 : 16)
    }

    private static func bitmap(_ numbers: [Int], upTo limit: Int, bytes: Int) throws -> ObjectBitmap {
        guard !numbers.isEmpty else { throw WorkerError(.invalidCommand, "no targets") }
        guard numbers.allSatisfy({ $0 <= limit }) else { throw WorkerError(.invalidCommand, "a target is above \(limit)") }
        return ObjectBitmap(numbers: numbers, byteCount: bytes)
    }
}
