/// The trouble and trouble-memory read commands and their documented answer lengths (protocol doc §3.1).
public enum TroublePart: UInt8, CaseIterable, Hashable, Sendable, Codable {
    case part1 = 0x1B
    case part2 = 0x1C
    case part3 = 0x1D
    case part4 = 0x1E
    case part5 = 0x1F
    case memoryPart1 = 0x20
    case memoryPart2 = 0x21
    case memoryPart3 = 0x22
    case memoryPart4 = 0x23
    case memoryPart5 = 0x24
    case part6 = 0x2C
    case part7 = 0x2D
    case memoryPart6 = 0x2E
    case memoryPart7 = 0x2F
    case part8 = 0x30
    case memoryPart8 = 0x31

    public var code: SatelCommandCode { SatelCommandCode(rawValue) }

    /// The answer length the doc gives. Part 8 is unconfirmed (doc §11.5): 64 bytes as gadulowaty models it.
    public var answerLength: Int {
        switch self {
        case .part1, .memoryPart1: 47
        case .part2: 26
        case .memoryPart2: 39
        case .part3, .memoryPart3: 60
        case .part4, .memoryPart4: 30
        case .part5: 31
        case .memoryPart5: 48
        case .part6, .memoryPart6: 45
        case .part7: 47
        case .memoryPart7: 48
        case .part8, .memoryPart8: 64
        }
    }

    public var isMemory: Bool {
        switch self {
        case .memoryPart1, .memoryPart2, .memoryPart3, .memoryPart4, .memoryPart5, .memoryPart6, .memoryPart7,
            .memoryPart8:
            true
        default: false
        }
    }

    public var name: String {
        let number: Int = switch self {
        case .part1, .memoryPart1: 1
        case .part2, .memoryPart2: 2
        case .part3, .memoryPart3: 3
        case .part4, .memoryPart4: 4
        case .part5, .memoryPart5: 5
        case .part6, .memoryPart6: 6
        case .part7, .memoryPart7: 7
        case .part8, .memoryPart8: 8
        }
        return isMemory ? "troubles memory part \(number)" : "troubles part \(number)"
    }

    /// The current-trouble parts (not memory), in the order a reader walks them.
    public static let currentParts: [TroublePart] = [.part1, .part2, .part3, .part4, .part5, .part6, .part7]
}
