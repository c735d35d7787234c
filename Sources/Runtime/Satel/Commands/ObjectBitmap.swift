/// A list of objects as the panel sends it: object #1 is byte 0 bit 0, #8 byte 0 bit 7, #9 byte 1 bit 0.
public struct ObjectBitmap: Hashable, Sendable {
    public private(set) var bytes: [UInt8]

    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// An empty bitmap of `byteCount` bytes.
    public init(byteCount: Int) {
        bytes = [UInt8](repeating: 0, count: byteCount)
    }

    /// A bitmap of `byteCount` bytes with the given 1-based objects set; numbers out of range are ignored.
    public init<Numbers: Sequence>(numbers: Numbers, byteCount: Int) where Numbers.Element == Int {
        self.init(byteCount: byteCount)
        for number in numbers {
            insert(number)
        }
    }

    public var capacity: Int { bytes.count * 8 }

    public func contains(_ number: Int) -> Bool {
        guard number >= 1 && number <= capacity else { return false }
        return bytes[(number - 1) / 8] & (1 << UInt8((number - 1) % 8)) != 0
    }

    public mutating func insert(_ number: Int) {
        guard number >= 1 && number <= capacity else { return }
        bytes[(number - 1) / 8] |= 1 << UInt8((number - 1) % 8)
    }

    public mutating func remove(_ number: Int) {
        guard number >= 1 && number <= capacity else { return }
        bytes[(number - 1) / 8] &= ~(1 << UInt8((number - 1) % 8))
    }

    public mutating func set(_ number: Int, to value: Bool) {
        if value { insert(number) } else { remove(number) }
    }

    /// The 1-based numbers of the set objects, ascending.
    public var numbers: [Int] {
        var result: [Int] = []
        for (byteIndex, byte) in bytes.enumerated() where byte != 0 {
            for bit in 0..<8 where byte & (1 << UInt8(bit)) != 0 {
                result.append(byteIndex * 8 + bit + 1)
            }
        }
        return result
    }

    public var isEmpty: Bool { bytes.allSatisfy { $0 == 0 } }

    /// The same objects in a bitmap of another size (dropping objects that do not fit).
    public func resized(to byteCount: Int) -> ObjectBitmap {
        var copy = bytes
        if copy.count > byteCount {
            copy.removeLast(copy.count - byteCount)
        } else {
            copy += [UInt8](repeating: 0, count: byteCount - copy.count)
        }
        return ObjectBitmap(bytes: copy)
    }
}

extension ObjectBitmap: CustomStringConvertible {
    public var description: String { "\(numbers)" }
}
