/// A deployment value that is either the same everywhere or written per environment
/// (`instances: { prod: 2, dev: 1 }`).
public struct PerEnvironment<Value: Hashable & Sendable>: Hashable, Sendable {
    /// The value for every environment not listed in `overrides`.
    public var common: Value?
    public var overrides: [String: Value]
    public var location: SourceLocation

    public init(common: Value?, overrides: [String: Value] = [:], location: SourceLocation) {
        self.common = common
        self.overrides = overrides
        self.location = location
    }

    public func value(in environment: String) -> Value? { overrides[environment] ?? common }

    /// Every value as written: the common one, then the overrides by environment name (for checks of each).
    public var writtenValues: [Value] {
        [common].compactMap { $0 } + overrides.keys.sorted().compactMap { overrides[$0] }
    }
}
