/// The 0x7F answer: bit n set = "command n has new data" (doc §3.6). Also the selection bitmap of the
/// monitoring request, which uses the same mapping.
public struct NewDataFlags: Hashable, Sendable, Codable {
    /// 5, 6 or 7 bytes.
    public var bytes: [UInt8]

    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Flags with the given command bits set, in `byteCount` bytes.
    public init<Commands: Sequence>(commands: Commands, byteCount: Int) where Commands.Element == UInt8 {
        var bytes = [UInt8](repeating: 0, count: byteCount)
        for command in commands where Int(command) / 8 < byteCount {
            bytes[Int(command) / 8] |= 1 << (command % 8)
        }
        self.bytes = bytes
    }

    public func contains(_ command: UInt8) -> Bool {
        let byte = Int(command) / 8
        return byte < bytes.count && bytes[byte] & (1 << (command % 8)) != 0
    }

    /// The command codes whose bits are set, ascending.
    public var commands: [UInt8] {
        var result: [UInt8] = []
        for (index, byte) in bytes.enumerated() where byte != 0 {
            for bit in 0..<8 where byte & (1 << UInt8(bit)) != 0 {
                result.append(UInt8(index * 8 + bit))
            }
        }
        return result
    }

    public var isEmpty: Bool { bytes.allSatisfy { $0 == 0 } }
}
