import Foundation

/// Context switches of a process's live threads so far (voluntary: it waited, for a socket, a lock or work; involuntary:
/// the scheduler took the CPU away), from /proc/PID/task/TID/status. A receiver whose frames hop between threads pays
/// for every hop here, and on a busy machine each hop also waits for a CPU.
enum ThreadSwitches {
    static func count(pid: pid_t) -> (voluntary: Int, involuntary: Int) {
        var result = (voluntary: 0, involuntary: 0)
        for task in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? [] {
            guard let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/status", encoding: .utf8) else { continue }
            for line in text.split(separator: "\n") {
                let fields = line.split(separator: ":", maxSplits: 1)
                guard fields.count == 2, let value = Int(fields[1].trimmingCharacters(in: .whitespaces)) else { continue }
                if fields[0] == "voluntary_ctxt_switches" { result.voluntary += value }
                if fields[0] == "nonvoluntary_ctxt_switches" { result.involuntary += value }
            }
        }
        return result
    }
}
