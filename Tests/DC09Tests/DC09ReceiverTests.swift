import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle
import Testing
@testable import DC09

/// `DC09Receiver` over real sockets, TCP and UDP on one port, with a store that records what it is given and can
/// be held or made to fail: the PostgreSQL store is the receiver's next step, so what is proven here is the
/// receiver's part of "durable before ACK" (no ACK before the store returns, none when it throws), not the store's.
@Suite struct DC09ReceiverTests {
    struct Accounts: DC09AccountDirectory {
        func account(_ header: DC09Header) -> DC09Account {
            switch header.account {
            case "1234": .plain
            case "9ABC": (try? DC09Key(text: "0123456789ABCDEF")).map(DC09Account.encrypted) ?? .unknown
            default: .unknown
            }
        }
    }

    /// Records what it stores; `hold` keeps the next store waiting until `release`, `fail` makes stores throw.
    actor RecordingStore: DC09MessageStore {
        var stored: [DC09ReceivedMessage] = []
        var failing = false
        var held: CheckedContinuation<Void, Never>?
        var holding = false

        struct Failure: Error {}

        func store(_ received: DC09ReceivedMessage) async throws -> DC09StoreOutcome {
            if holding { await withCheckedContinuation { held = $0 } }
            if failing { throw Failure() }
            let duplicate = stored.contains { $0.message == received.message }
            if !duplicate { stored.append(received) }
            return duplicate ? .duplicate : .stored
        }

        func hold() { holding = true }
        func release() { holding = false; held?.resume(); held = nil }
        func isHolding() -> Bool { held != nil }
        func fail(_ value: Bool) { failing = value }
    }

    final class Observations: Sendable {
        let box = NIOLockedValueBox<[DC09ReceiverObservation]>([])
        func append(_ observation: DC09ReceiverObservation) { box.withLockedValue { $0.append(observation) } }
        var all: [DC09ReceiverObservation] { box.withLockedValue { $0 } }
        var reports: [DC09FrameReport] { all.compactMap { if case .frame(let report) = $0 { report } else { nil } } }
        var outcomes: [DC09FrameOutcome] { reports.map(\.outcome) }
    }

    /// Runs a receiver on a free port for `body`.
    static func withReceiver(store: RecordingStore, idleTimeout: Duration = .seconds(120),
                             _ body: (Int, Observations) async throws -> Void) async throws {
        let observations = Observations()
        let logger = Logger(label: "test.dc09")
        let receiver = DC09Receiver(configuration: .init(host: "127.0.0.1", port: 0, idleTimeout: idleTimeout),
                                    handler: DC09FrameHandler(accounts: Accounts(), store: store, logger: logger), logger: logger,
                                    observe: observations.append)
        let group = ServiceGroup(services: [receiver], gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let deadline = ContinuousClock.now + .seconds(10)
            while receiver.boundPort == nil, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            let port = try #require(receiver.boundPort)
            try await body(port, observations)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    static func frame(_ sequence: Int, account: String = "1234", data: String = "#1234|Nri1/BA03", key: DC09Key? = nil) throws -> [UInt8] {
        try DC09MessageBuilder.frame(DC09Message(header: DC09Header(token: .siaDCS, encrypted: false, sequence: sequence, receiver: nil,
                                                                    linePrefix: "1", account: account), data: data), key: key)
    }

    /// A raw TCP connection: what a communicator's socket does, byte for byte.
    final class Connection: @unchecked Sendable {
        let socket: Int32

        init(port: Int) throws {
            socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let result = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            guard result == 0 else { throw DC09ReceiverError(message: "connect failed: \(errno)") }
        }

        func send(_ bytes: [UInt8]) { _ = bytes.withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }

        /// `blockingAnswers` on a thread of its own: a blocking read on Swift's cooperative pool would starve the
        /// receiver's own tasks on it (2 threads on 2 cores).
        func answers(_ count: Int) async -> (answers: [DC09ReceivedAnswer], closed: Bool) {
            await withCheckedContinuation { continuation in
                Thread.detachNewThread { continuation.resume(returning: self.blockingAnswers(count)) }
            }
        }

        /// Nothing readable within `milliseconds`, waited for on a thread of its own.
        func staysSilent(milliseconds: Int32) async -> Bool {
            await withCheckedContinuation { continuation in
                Thread.detachNewThread {
                    var pending = pollfd(fd: self.socket, events: Int16(POLLIN), revents: 0)
                    continuation.resume(returning: poll(&pending, 1, milliseconds) == 0)
                }
            }
        }

        /// Answers (bodies between LF and CR) until `count` came, or the connection closed or timed out.
        func blockingAnswers(_ count: Int) -> (answers: [DC09ReceivedAnswer], closed: Bool) {
            var buffer: [UInt8] = [], answers: [DC09ReceivedAnswer] = []
            var chunk = [UInt8](repeating: 0, count: 4096)
            while answers.count < count {
                let read = recv(socket, &chunk, chunk.count, 0)
                if read <= 0 { return (answers, read == 0) }
                buffer += chunk[..<read]
                while let start = buffer.firstIndex(of: 0x0A), let end = buffer[start...].firstIndex(of: 0x0D) {
                    if let answer = try? DC09ReceivedAnswer.read(buffer[(start + 1)..<end], key: try? DC09Key(text: "0123456789ABCDEF")) { answers.append(answer) }
                    buffer.removeSubrange(...end)
                }
            }
            return (answers, false)
        }

        deinit { close(socket) }
    }

    @Test func framesInOneWriteAndSplitOverWritesAreAnsweredInOrder() async throws {
        let store = RecordingStore()
        try await Self.withReceiver(store: store) { port, observations in
            let connection = try Connection(port: port)
            let first = try Self.frame(1), second = try Self.frame(2, data: "#1234|Nri1/FA07"), third = try Self.frame(3)
            connection.send(Array("noise".utf8) + first + second + Array(third.prefix(10)))
            try await Task.sleep(for: .milliseconds(50))
            connection.send(Array(third.dropFirst(10)))
            let (answers, _) = await connection.answers(3)
            #expect(answers.map(\.kind) == [.ack, .ack, .ack])
            #expect(answers.map(\.sequence) == [1, 2, 3])
            #expect(await store.stored.map(\.message.header.sequence) == [1, 2, 3])
            #expect(await store.stored.map { $0.events.first?.code } == ["BA", "FA", "BA"])
            #expect(observations.all.contains(.discarded(byteCount: 5, reason: .beforeFrame)))
        }
    }

    @Test func noACKBeforeTheStoreReturnsAndNoneWhenItFails() async throws {
        let store = RecordingStore()
        try await Self.withReceiver(store: store) { port, observations in
            await store.hold()
            let connection = try Connection(port: port)
            connection.send(try Self.frame(1))
            let deadline = ContinuousClock.now + .seconds(5)
            while await !store.isHolding(), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            #expect(await store.isHolding())
            // The store has the message and has not returned: nothing may have been answered.
            #expect(await connection.staysSilent(milliseconds: 300))
            await store.release()
            #expect(await connection.answers(1).answers.map(\.kind) == [.ack])

            // A store that throws: no answer, the connection closes, the sender can retry at once.
            await store.fail(true)
            connection.send(try Self.frame(2))
            let failed = await connection.answers(1)
            #expect(failed.answers.isEmpty && failed.closed)
            #expect(observations.outcomes.contains(.notStored))

            // The retry, once the store works, is stored once and ACKed; sent again, it is a duplicate ACKed again.
            await store.fail(false)
            let retry = try Connection(port: port)
            retry.send(try Self.frame(2))
            retry.send(try Self.frame(2))
            #expect(await retry.answers(2).answers.map(\.kind) == [.ack, .ack])
            #expect(await store.stored.map(\.message.header.sequence) == [1, 2])
            #expect(observations.outcomes.contains(.acknowledged(.duplicate)))
        }
    }

    @Test func refusedFramesGetNAKOrDUHAndTheConnectionGoesOn() async throws {
        let store = RecordingStore()
        try await Self.withReceiver(store: store) { port, observations in
            let connection = try Connection(port: port)
            var corrupted = try Self.frame(1)
            corrupted[12] ^= 1
            connection.send(corrupted)
            connection.send(try Self.frame(2, account: "7777"))
            connection.send(DC09Answer.frame("\"XNM\"0003L1#1234[]"))
            connection.send(try Self.frame(4, data: "#1234|N12"))
            connection.send(try Self.frame(5, account: "9ABC", data: "#9ABC|NFA1", key: DC09Key(text: "0123456789ABCDEF")))
            let answers = await connection.answers(5).answers
            #expect(answers.map(\.kind) == [.nak, .nak, .duh, .duh, .ack])
            #expect(answers.last?.encrypted == true && answers.last?.receiverTime != nil)
            #expect(await store.stored.map(\.message.header.sequence) == [5])
            #expect(observations.reports.count == 5)
            #expect(observations.outcomes.contains(.refused(.crcMismatch)) && observations.outcomes.contains(.refused(.unknownAccount)))
            // What the frame said of its sender travels with the outcome (the security log names the account); a frame
            // whose CRC fails says nothing.
            #expect(observations.reports.first { $0.outcome == .refused(.unknownAccount) }?.header?.account == "7777")
            #expect(observations.reports.first { $0.outcome == .refused(.crcMismatch) }?.header == nil)
            #expect(observations.reports.allSatisfy { $0.transport == .tcp && $0.peer.hasPrefix("127.0.0.1:") })
        }
    }

    @Test func udpOnTheSamePortOneFrameADatagram() async throws {
        let store = RecordingStore()
        try await Self.withReceiver(store: store) { port, _ in
            let answer = try await DC09Sender.send(try Self.frame(7), host: "127.0.0.1", port: port, transport: .udp, timeout: .seconds(5))
            #expect(try DC09ReceivedAnswer.read(answer, key: nil).kind == .ack)
            let tcp = try await DC09Sender.send(try Self.frame(8), host: "127.0.0.1", port: port, transport: .tcp, timeout: .seconds(5))
            #expect(try DC09ReceivedAnswer.read(tcp, key: nil).sequence == 8)
            #expect(await store.stored.map(\.transport) == [.udp, .tcp])
        }
    }

    @Test func anIdleConnectionIsClosed() async throws {
        try await Self.withReceiver(store: RecordingStore(), idleTimeout: .milliseconds(300)) { port, _ in
            let connection = try Connection(port: port)
            let started = ContinuousClock.now
            #expect(await connection.answers(1).closed)
            #expect(ContinuousClock.now - started < .seconds(4))
        }
    }
}
