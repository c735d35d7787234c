import Sms
#if canImport(Glibc)
import Glibc
#endif

// Glibc's module map hides the X/Open pty functions (they need _XOPEN_SOURCE); bind them by symbol.
@_silgen_name("posix_openpt") private func posix_openpt(_ flags: Int32) -> Int32
@_silgen_name("grantpt") private func grantpt(_ descriptor: Int32) -> Int32
@_silgen_name("unlockpt") private func unlockpt(_ descriptor: Int32) -> Int32
@_silgen_name("ptsname_r") private func ptsname_r(_ descriptor: Int32, _ buffer: UnsafeMutablePointer<CChar>, _ length: Int) -> Int32

/// A pseudo-terminal pair: the simulator drives the master, the agent opens the slave by its path
/// exactly as it would open /dev/ttyUSB0.
struct PseudoTerminal {
    let master: Int32
    /// Kept open by the simulator: with no slave descriptor open, reads on the master fail with EIO, so the
    /// agent closing its end (a restart, a kill -9) would otherwise look like the line going dead.
    let slaveKeeper: Int32
    let slavePath: String

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func open() throws -> PseudoTerminal {
        let master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard master >= 0 else { throw Failure(description: "posix_openpt: \(String(cString: strerror(errno)))") }
        guard grantpt(master) == 0, unlockpt(master) == 0 else {
            close(master)
            throw Failure(description: "grantpt/unlockpt: \(String(cString: strerror(errno)))")
        }
        var name = [CChar](repeating: 0, count: 128)
        guard ptsname_r(master, &name, name.count) == 0 else {
            close(master)
            throw Failure(description: "ptsname: \(String(cString: strerror(errno)))")
        }
        let path = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let slave = Glibc.open(path, O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard slave >= 0 else {
            close(master)
            throw Failure(description: "open \(path): \(String(cString: strerror(errno)))")
        }
        // Raw from the start: the line discipline must not echo or rewrite what either side writes before
        // the agent sets its own modes.
        do {
            try SerialPort.configureRaw(slave, path: path, baud: 115_200)
        } catch {
            close(slave)
            close(master)
            throw Failure(description: "\(error)")
        }
        return PseudoTerminal(master: master, slaveKeeper: slave, slavePath: path)
    }
}
