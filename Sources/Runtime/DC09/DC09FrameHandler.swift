import Foundation
import Logging

/// One frame in, at most one answer out. The order is the reliability argument: a frame is parsed, its events are
/// read, the store commits it, and only then is the ACK built. A frame that cannot be read gets NAK (bad CRC, length,
/// format, key, time, unknown account) or DUH (well-formed, unusable), and nothing is stored; a store that fails
/// gets no answer, so the sender retries. Crash at any step before the commit: nothing kept, no ACK sent, the
/// sender retries; after the commit and before the ACK: the retry is a duplicate, ACKed again and kept once.
public struct DC09FrameHandler: Sendable {
    public var parser = DC09MessageParser()
    let accounts: any DC09AccountDirectory
    let store: any DC09MessageStore
    let logger: Logger
    let now: @Sendable () -> Date
    /// Runs after the store committed and before the ACK goes out: the crash test's hook (`stam receiver` sets it
    /// only from STAM_RECEIVER_TEST_PAUSE_BEFORE_ACK). Nil in a deployment.
    public var beforeAcknowledging: (@Sendable () async -> Void)?

    public init(accounts: any DC09AccountDirectory, store: any DC09MessageStore, logger: Logger, now: @escaping @Sendable () -> Date = Date.init) {
        self.accounts = accounts
        self.store = store
        self.logger = logger
        self.now = now
    }

    /// `body` is the frame between LF and CR; the answer is a whole frame, or nil when there is none to send.
    public func handle(_ body: [UInt8], transport: DC09Sender.Transport, peer: String) async -> (answer: [UInt8]?, report: DC09FrameReport) {
        let receivedAt = now()
        func report(_ outcome: DC09FrameOutcome, _ header: DC09Header?) -> DC09FrameReport {
            DC09FrameReport(outcome: outcome, header: header, transport: transport, peer: peer, receivedAt: receivedAt)
        }
        let frameID = UUID().uuidString.lowercased()
        var logger = logger
        logger[metadataKey: "frame_id"] = .string(frameID)
        logger[metadataKey: "peer"] = .string(peer)
        logger[metadataKey: "transport"] = .string(transport.rawValue)
        let message: DC09Message
        let events: [DC09Event]
        // The account the parser looked up (once) is the one whose key encrypts the ACK.
        var account = DC09Account.unknown
        do {
            message = try parser.parse(body, now: receivedAt) { header in
                account = accounts.account(header)
                return account
            }
            events = try DC09ContentParser.events(in: message)
        } catch {
            logger[metadataKey: "account"] = .string(error.header?.account ?? "?")
            logger.notice("DC-09 frame refused: \(error)", metadata: ["frame": .string(Self.printable(body))])
            guard error.answersWithNAK else {
                return (error.header.map(DC09Answer.duh) ?? DC09Answer.nak(now: receivedAt), report(.refused(error.code), error.header))
            }
            return (DC09Answer.nak(now: receivedAt), report(.refused(error.code), error.header))
        }
        logger[metadataKey: "account"] = .string(message.header.account)
        logger[metadataKey: "sequence"] = .stringConvertible(message.header.sequence)
        // The ACK is built first (it needs only the header, the key and the time) and sent only after the commit.
        let ack: [UInt8]
        do {
            let key: DC09Key? = if case .encrypted(let key) = account { key } else { nil }
            ack = try DC09Answer.ack(to: message.header, key: key, now: receivedAt)
        } catch {
            logger.error("DC-09 ACK cannot be encrypted with the account's key: \(error)")
            return (DC09Answer.nak(now: receivedAt), report(.refused(.key), message.header))
        }
        do {
            let outcome = try await store.store(DC09ReceivedMessage(message: message, events: events, raw: [0x0A] + body + [0x0D],
                                                                    receivedAt: receivedAt, transport: transport, peer: peer))
            logger.debug("DC-09 message stored", metadata: ["outcome": .string(DC09FrameOutcome.acknowledged(outcome).answer)])
            await beforeAcknowledging?()
            return (ack, report(.acknowledged(outcome), message.header))
        } catch {
            logger.error("DC-09 message not stored, not acknowledged (the sender retries): \(error)")
            return (nil, report(.notStored, message.header))
        }
    }

    /// The frame for the log: printable ASCII as it is, other bytes as \xNN.
    static func printable(_ bytes: [UInt8]) -> String {
        bytes.prefix(200).map { $0 >= 0x20 && $0 < 0x7F ? String(UnicodeScalar($0)) : "\\x" + String($0, radix: 16) }.joined()
    }
}
