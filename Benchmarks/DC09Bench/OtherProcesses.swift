import BenchSupport
import Foundation

/// Which processes besides the run's own used the CPU over a stretch of time: on a shared machine (another build, a
/// test suite) the receiver waits for a CPU because of them, and the report names them.
struct OtherProcesses {
    /// CPU seconds so far of every process, by PID, with its command name.
    let seconds: [pid_t: (name: String, seconds: Double)]

    static func snapshot() -> OtherProcesses {
        var seconds: [pid_t: (name: String, seconds: Double)] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = pid_t(entry), let used = ProcessCPU.seconds(pid: pid),
                  let name = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8) else { continue }
            seconds[pid] = (name.trimmingCharacters(in: .whitespacesAndNewlines), used)
        }
        return OtherProcesses(seconds: seconds)
    }

    /// The processes not in `ours` (nor children of `server`) that used the most CPU since `earlier`: name and cores
    /// over `elapsed` seconds, busiest first.
    func busiest(since earlier: OtherProcesses, elapsed: Double, excluding ours: Set<pid_t>, server: pid_t, limit: Int = 3) -> [(name: String, cores: Double)] {
        var used: [(name: String, cores: Double)] = []
        for (pid, now) in seconds where !ours.contains(pid) && !Self.isChild(pid, of: server) {
            let delta = now.seconds - (earlier.seconds[pid]?.seconds ?? 0)
            if delta > 0 { used.append((now.name, delta / max(0.001, elapsed))) }
        }
        return Array(used.sorted { $0.cores > $1.cores }.prefix(limit))
    }

    private static func isChild(_ pid: pid_t, of parent: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return false }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 1 && pid_t(fields[1]) == parent
    }
}
