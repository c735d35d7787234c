import Foundation

/// The receiver's log (swift-log's stream format: time, level, label, metadata, [source] message) read between two
/// points of the run: lines by level, and the most frequent error and warning messages, as evidence of what the
/// receiver did under the load.
struct DC09ReceiverLog {
    struct Summary {
        var lines: [String: Int] = [:]
        /// (message, times) of error and warning lines, most frequent first.
        var frequent: [(level: String, message: String, count: Int)] = []
    }

    let path: String

    /// The log's length now: the start of what a pass writes.
    func mark() -> UInt64 {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? NSNumber)?.uint64Value ?? 0
    }

    func summary(from offset: UInt64) -> Summary {
        guard let handle = FileHandle(forReadingAtPath: path) else { return Summary() }
        defer { try? handle.close() }
        try? handle.seek(toOffset: offset)
        let text = String(decoding: (try? handle.readToEnd()) ?? Data(), as: UTF8.self)
        var summary = Summary()
        var messages: [String: (level: String, count: Int)] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 2)
            guard fields.count == 3 else { continue }
            let level = String(fields[1])
            summary.lines[level, default: 0] += 1
            guard level == "error" || level == "warning" || level == "critical" else { continue }
            // The message follows the `[Module] ` source; metadata before it varies per frame.
            let message = line.firstMatch(of: /\s\[[A-Za-z0-9_]+\] (.*)$/).map { String($0.1) } ?? String(fields[2])
            let key = String(message.prefix(160))
            messages[key, default: (level, 0)].count += 1
        }
        summary.frequent = messages.map { (level: $0.value.level, message: $0.key, count: $0.value.count) }
            .sorted { $0.count > $1.count }.prefix(4).map { $0 }
        return summary
    }
}
