/// A change of one state bitmap: which objects entered the state and which left it.
public struct StateChange: Hashable, Sendable {
    public var command: StateCommand
    /// Objects that are now in the state and were not before (all of them on the first read).
    public var entered: [Int]
    /// Objects that were in the state and no longer are.
    public var left: [Int]
    /// Every object in the state now.
    public var current: [Int]
    /// True for the first read after the client started: `entered` is then the whole current state.
    public var isInitial: Bool

    public init(command: StateCommand, entered: [Int], left: [Int], current: [Int], isInitial: Bool) {
        self.command = command
        self.entered = entered
        self.left = left
        self.current = current
        self.isInitial = isInitial
    }

    public var objectKind: ObjectKind { command.objectKind }
}
