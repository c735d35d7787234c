/// An INTEGRA panel type as reported by 0x7E, with its capacities (doc §5).
public struct PanelModel: Hashable, Sendable, Codable {
    /// The type byte of the 0x7E answer.
    public var typeCode: UInt8
    public var name: String
    public var partitions: Int
    public var zones: Int
    public var outputs: Int
    /// Ordinary users; masters are numbered after them (241..248).
    public var users: Int
    /// The low nibble of 0x1A byte 8 for this panel (0=24, 1=32, 2=64, 3=128, 4=128-WRL, 8=256 Plus).
    public var baseType: UInt8

    public init(typeCode: UInt8, name: String, partitions: Int, zones: Int, outputs: Int, users: Int, baseType: UInt8) {
        self.typeCode = typeCode
        self.name = name
        self.partitions = partitions
        self.zones = zones
        self.outputs = outputs
        self.users = users
        self.baseType = baseType
    }

    /// Only the 256 Plus has objects past 128, so only it can need the 32-byte bitmaps.
    public var hasMoreThan128Objects: Bool { zones > 128 || outputs > 128 }

    public static let integra24 = PanelModel(
        typeCode: 0, name: "INTEGRA 24", partitions: 4, zones: 24, outputs: 20, users: 16, baseType: 0)
    public static let integra32 = PanelModel(
        typeCode: 1, name: "INTEGRA 32", partitions: 16, zones: 32, outputs: 32, users: 64, baseType: 1)
    public static let integra64 = PanelModel(
        typeCode: 2, name: "INTEGRA 64", partitions: 32, zones: 64, outputs: 64, users: 192, baseType: 2)
    public static let integra128 = PanelModel(
        typeCode: 3, name: "INTEGRA 128", partitions: 32, zones: 128, outputs: 128, users: 240, baseType: 3)
    public static let integra128WRLSIM300 = PanelModel(
        typeCode: 4, name: "INTEGRA 128-WRL SIM300", partitions: 32, zones: 128, outputs: 128, users: 240,
        baseType: 4)
    public static let integra64Plus = PanelModel(
        typeCode: 66, name: "INTEGRA 64 Plus", partitions: 32, zones: 64, outputs: 64, users: 192, baseType: 2)
    public static let integra128Plus = PanelModel(
        typeCode: 67, name: "INTEGRA 128 Plus", partitions: 32, zones: 128, outputs: 128, users: 240, baseType: 3)
    public static let integra256Plus = PanelModel(
        typeCode: 72, name: "INTEGRA 256 Plus", partitions: 32, zones: 256, outputs: 256, users: 240, baseType: 8)
    public static let integra128WRLLeon = PanelModel(
        typeCode: 132, name: "INTEGRA 128-WRL LEON", partitions: 32, zones: 128, outputs: 128, users: 240,
        baseType: 4)

    public static let all: [PanelModel] = [
        .integra24, .integra32, .integra64, .integra128, .integra128WRLSIM300, .integra64Plus, .integra128Plus,
        .integra256Plus, .integra128WRLLeon,
    ]

    /// The model for a 0x7E type byte; an unknown type gets the widest capacities so nothing is cut off.
    public static func forTypeCode(_ code: UInt8) -> PanelModel {
        all.first { $0.typeCode == code }
            ?? PanelModel(
                typeCode: code, name: "unknown INTEGRA (type \(code))", partitions: 32, zones: 256, outputs: 256,
                users: 240, baseType: 0x0F)
    }

    /// Looks a model up by a loose name (`"128"`, `"INTEGRA 256 Plus"`, `"256plus"`) or by its type code (`"72"`).
    public static func named(_ text: String) -> PanelModel? {
        let wanted = text.lowercased().filter { $0.isLetter || $0.isNumber }
        let byName = all.first { model in
            let name = model.name.lowercased().filter { $0.isLetter || $0.isNumber }
            return name == wanted || name == "integra" + wanted
        }
        if let byName { return byName }
        guard let code = UInt8(wanted) else { return nil }
        return all.first { $0.typeCode == code }
    }
}
