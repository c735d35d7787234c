import BenchSupport
import Foundation

/// What the receiver, PostgreSQL (its postmaster and every backend), this process and the machine had used of the CPUs
/// at one instant (/proc); two of them give a window's figures.
struct UsageSnapshot {
    var at: ContinuousClock.Instant
    var receiverSeconds: Double
    var postgresSeconds: Double
    var benchSeconds: Double
    var receiverRunQueueSeconds: Double
    var receiverSwitches: (voluntary: Int, involuntary: Int)
    var machine: (busy: Double, total: Double)
    var processes: OtherProcesses

    init(receiver: pid_t, postgres: pid_t) {
        at = .now
        receiverSeconds = ProcessCPU.seconds(pid: receiver) ?? 0
        postgresSeconds = ProcessCPU.seconds(of: [], server: postgres)
        benchSeconds = ProcessCPU.seconds(pid: getpid()) ?? 0
        receiverRunQueueSeconds = ProcessCPU.runQueueWaitSeconds(pid: receiver)
        receiverSwitches = ThreadSwitches.count(pid: receiver)
        machine = ProcessCPU.machine()
        processes = OtherProcesses.snapshot()
    }

    var oursSeconds: Double { receiverSeconds + postgresSeconds + benchSeconds }
}
