import Satel
/// A panel user the simulator knows: a code, the partitions it may operate and what it may do there.
public struct SimulatedUser: Hashable, Sendable, Codable {
    public enum Right: String, Hashable, Sendable, Codable, CaseIterable {
        case arm
        case disarm
        case clearAlarm
        case bypass
        case outputs
        case clock
    }

    /// 1…240 ordinary users, 241…248 masters (the number that appears in event records as the source).
    public var number: Int
    public var code: String
    public var partitions: Set<Int>
    public var rights: Set<Right>

    public init(number: Int, code: String, partitions: Set<Int>, rights: Set<Right> = Set(Right.allCases)) {
        self.number = number
        self.code = code
        self.partitions = partitions
        self.rights = rights
    }
}
