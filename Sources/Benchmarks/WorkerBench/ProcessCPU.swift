import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// User + system CPU seconds a process has used so far: utime + stime of /proc/PID/stat (Linux).
enum ProcessCPU {
    static func seconds(pid: pid_t) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // Fields after the command name (which may hold spaces) start after the last ')': utime and stime,
        // fields 14 and 15 of the line, are 12 and 13 from there.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
