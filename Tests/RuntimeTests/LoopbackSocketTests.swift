import Foundation
import DevStack
import Synchronization
import Testing

/// A refused connection closes its descriptor once. Closed twice, the second close can hit the descriptor another
/// thread opened in between under the same number: the console test's backend, bound on the port the health probe
/// had just been refused by, trapped in NIO's `getsockname` with EBADF.
@Suite struct LoopbackSocketTests {
    @Test func aRefusedConnectionClosesItsDescriptorOnlyOnce() throws {
        let refusedPort = try FreePort.find()
        let stop = Atomic(false)
        let closedUnderneath = Atomic(0)
        let opened = Atomic(0)
        // Another thread opens descriptors all the while and checks each is still open before closing it: a second
        // close of a refused socket's number lands on one of these sooner or later.
        let watcher = Thread {
            while !stop.load(ordering: .relaxed) {
                let fd = open("/dev/null", O_RDONLY)
                guard fd >= 0 else { continue }
                opened.add(1, ordering: .relaxed)
                for _ in 0..<20 { sched_yield() }
                if fcntl(fd, F_GETFD) == -1 {
                    closedUnderneath.add(1, ordering: .relaxed)
                } else {
                    close(fd)
                }
            }
        }
        watcher.start()
        var refused = 0
        for _ in 0..<20_000 {
            do {
                _ = try LoopbackSocket(port: refusedPort, timeout: 1)
            } catch {
                refused += 1
            }
        }
        stop.store(true, ordering: .relaxed)
        #expect(refused == 20_000)
        #expect(opened.load(ordering: .relaxed) > 0)
        #expect(closedUnderneath.load(ordering: .relaxed) == 0, "descriptors of another thread closed by refused connections")
    }
}
