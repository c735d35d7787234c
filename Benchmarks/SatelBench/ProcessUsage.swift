import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// CPU time and resident memory of a process, read from /proc (Linux).
struct ProcessUsage {
    /// User + system CPU seconds.
    var cpuSeconds: Double
    var residentBytes: Int

    static func of(pid: Int32) -> ProcessUsage? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        else { return nil }
        // Fields after the command name (which may hold spaces) start after the last ')'.
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        var resident = 0
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let digits = line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
            resident = digits * 1024
        }
        return ProcessUsage(cpuSeconds: (user + system) / ticks, residentBytes: resident)
    }

    static var current: ProcessUsage? { of(pid: getpid()) }
}
