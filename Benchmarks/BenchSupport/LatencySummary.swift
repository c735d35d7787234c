/// Percentiles of a set of latencies in milliseconds (nearest rank: the value below which that share of
/// the samples lies, never an interpolation between two).
public struct LatencySummary {
    public let sorted: [Double]

    public init(_ samples: [Double]) {
        sorted = samples.sorted()
    }

    public var count: Int { sorted.count }

    public func percentile(_ share: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let rank = Int((share * Double(sorted.count)).rounded(.up))
        return sorted[Swift.min(sorted.count, Swift.max(1, rank)) - 1]
    }

    public var p50: Double { percentile(0.50) }
    public var p99: Double { percentile(0.99) }
    public var max: Double { sorted.last ?? .nan }
}
