/// `alarm_stack:` in `schema/entities.yaml`: the priority classes operators' alarms are stacked in, one per
/// `AlarmPriority` value and in its order (most urgent first), each with how long an alarm may wait
/// unacknowledged before it escalates, the `AlarmKind`s it takes by default, and whether a supervisor may close
/// its alarms in bulk.
public struct AlarmStackDeclaration: Hashable, Sendable {
    public var location: SourceLocation
    public var doc: String?
    public var classes: [AlarmClassDeclaration]

    public init(location: SourceLocation, doc: String? = nil, classes: [AlarmClassDeclaration] = []) {
        self.location = location
        self.doc = doc
        self.classes = classes
    }

    /// The enums the stack is declared over.
    public static let priorityEnum = "AlarmPriority"
    public static let kindEnum = "AlarmKind"
}

/// One class of the alarm stack.
public struct AlarmClassDeclaration: Hashable, Sendable {
    public var priority: Located<String>
    public var doc: String?
    public var acknowledgeWithinSeconds: Located<Int>
    public var kinds: [Located<String>]
    public var bulkClose: Bool

    public init(priority: Located<String>, doc: String? = nil, acknowledgeWithinSeconds: Located<Int>, kinds: [Located<String>],
                bulkClose: Bool = true) {
        self.priority = priority
        self.doc = doc
        self.acknowledgeWithinSeconds = acknowledgeWithinSeconds
        self.kinds = kinds
        self.bulkClose = bulkClose
    }
}
