import ArgumentParser

/// A command-line duration, the one syntax of every duration option: a number with a unit, `7d`, `12h`, `30m`,
/// `45s`, `500ms` (a bare number is seconds).
struct DurationArgument: ExpressibleByArgument, Sendable, CustomStringConvertible {
    var duration: Duration
    var text: String

    init(days: Int) {
        duration = .seconds(days * 86_400)
        text = "\(days)d"
    }

    init(seconds: Int) {
        duration = .seconds(seconds)
        text = "\(seconds)s"
    }

    init(milliseconds: Int) {
        duration = .milliseconds(milliseconds)
        text = "\(milliseconds)ms"
    }

    init?(argument: String) {
        let units: [(suffix: String, milliseconds: Int)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        let unit = units.first { argument.hasSuffix($0.suffix) }
        guard let value = Int(argument.dropLast(unit?.suffix.count ?? 0)), value > 0 else { return nil }
        duration = .milliseconds(value * (unit?.milliseconds ?? 1000))
        text = argument
    }

    /// Whole milliseconds (a database column such as `poll_interval_ms`).
    var milliseconds: Int {
        Int(duration.components.seconds) * 1000 + Int(duration.components.attoseconds / 1_000_000_000_000_000)
    }

    /// Seconds as a Double (backoff settings).
    var seconds: Double { Double(milliseconds) / 1000 }

    var description: String { text }
    var defaultValueDescription: String { text }
}
