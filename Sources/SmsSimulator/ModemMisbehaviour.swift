import Sms
/// Faults the simulated modem shows on demand, each one a way a real modem has been seen to fail.
public struct ModemMisbehaviour: Hashable, Sendable {
    /// Noise lines (binary junk, cut-off words) before answers and between the entries of a list, and a
    /// stray +CMTI in the middle of multi-line answers.
    public var garbage = false
    /// Reads commands and answers nothing (a hung modem firmware).
    public var silent = false
    /// The storage reports itself full: new messages wait at the network until space is freed.
    public var storageFull = false

    public init(garbage: Bool = false, silent: Bool = false, storageFull: Bool = false) {
        self.garbage = garbage
        self.silent = silent
        self.storageFull = storageFull
    }
}
