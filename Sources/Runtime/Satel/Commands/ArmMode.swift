/// The four arming modes. Mode 0 is full arming; 1–3 are installer-defined partial ("stay", "night") modes.
public enum ArmMode: UInt8, CaseIterable, Hashable, Sendable, Codable {
    case mode0 = 0
    case mode1 = 1
    case mode2 = 2
    case mode3 = 3

    public var name: String {
        switch self {
        case .mode0: "full"
        case .mode1: "mode 1"
        case .mode2: "mode 2"
        case .mode3: "mode 3"
        }
    }
}
