import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a process and the machine did with the CPUs, from /proc (Linux). On a shared machine the latency of
/// a process that waits for a CPU says more about the machine than about the process: the report gives both.
public enum ProcessCPU {
    /// User + system CPU seconds a process has used so far: utime + stime of /proc/PID/stat; with
    /// `reapedChildren`, also cutime + cstime (children that exited and were waited for).
    public static func seconds(pid: pid_t, reapedChildren: Bool = false) -> Double? {
        guard let fields = statFields(pid), fields.count > 15,
              let user = Double(fields[11]), let system = Double(fields[12]),
              let childrenUser = Double(fields[13]), let childrenSystem = Double(fields[14]) else { return nil }
        let ticks = user + system + (reapedChildren ? childrenUser + childrenSystem : 0)
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// CPU seconds of a set of processes, plus a server's: its own, its live children's and its exited
    /// children's (PostgreSQL runs a process per connection).
    public static func seconds(of pids: [pid_t], server: pid_t) -> Double {
        var total = pids.compactMap { seconds(pid: $0) }.reduce(0, +) + (seconds(pid: server, reapedChildren: true) ?? 0)
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = pid_t(entry), let fields = statFields(pid), fields.count > 1, pid_t(fields[1]) == server else { continue }
            total += seconds(pid: pid) ?? 0
        }
        return total
    }

    /// The fields of /proc/PID/stat after the command name (which may hold spaces): state, ppid, …; utime
    /// and stime, fields 14 and 15 of the line, are 11 and 12 here.
    private static func statFields(_ pid: pid_t) -> [Substring]? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ")
    }

    /// Seconds the process's live threads spent runnable but waiting for a CPU (field 2 of each
    /// /proc/PID/task/TID/schedstat, in nanoseconds).
    public static func runQueueWaitSeconds(pid: pid_t) -> Double {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        var nanoseconds = 0.0
        for task in tasks {
            guard let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/schedstat", encoding: .utf8) else { continue }
            let fields = text.split(separator: " ")
            if fields.count > 1, let wait = Double(fields[1]) { nanoseconds += wait }
        }
        return nanoseconds / 1e9
    }

    /// The process's resident memory in bytes (VmRSS of /proc/PID/status).
    public static func residentBytes(pid: pid_t) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return nil }
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 2, let kilobytes = Double(fields[1]) else { return nil }
        return kilobytes * 1024
    }

    /// CPU seconds of the whole machine so far: (busy, total), from the `cpu` line of /proc/stat (idle and
    /// iowait count as not busy).
    public static func machine() -> (busy: Double, total: Double) {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = text.split(separator: "\n").first, line.hasPrefix("cpu ") else { return (0, 0) }
        let values = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard values.count >= 5 else { return (0, 0) }
        // user nice system idle iowait irq softirq steal (guest time is already in user).
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let total = values.prefix(8).reduce(0, +)
        return ((total - values[3] - values[4]) / ticks, total / ticks)
    }
}
