import ArgumentParser

/// A command-line duration: a number with a unit, `7d`, `12h`, `30m`, `45s` (bare numbers are seconds).
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

    init?(argument: String) {
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        var number = Substring(argument)
        var multiplier = 1
        if let last = number.last, let unit = units[last] {
            multiplier = unit
            number = number.dropLast()
        }
        guard let value = Int(number), value > 0 else { return nil }
        duration = .seconds(value * multiplier)
        text = argument
    }

    var description: String { text }
    var defaultValueDescription: String { text }
}
