import DC09
import Foundation
import Generated
import Logging
import NIOConcurrencyHelpers
import Persistence
import ServiceLifecycle
import StamCore

/// A frame from an account the station does not know is a security event: a communicator set up with the wrong
/// account or receiver, or someone probing the receiver. The handler answers it NAK and the metrics count it; this
/// writes it to the audit trail supervisors read (`dc09.unknown_account`, entity `dc09_account`, the sender's
/// address), at most one entry per account and sender address every `window`, carrying how many frames came since
/// the last one. A flood therefore costs one row per window, and entries wait in a bounded buffer: a receiver whose
/// database is slow drops the oldest security entries (they are counted in the metrics), never a frame.
public final class DC09SecurityLog: Service, Sendable {
    struct Source: Hashable {
        var account: String
        var address: String
    }

    struct Entry: Sendable {
        var account: String
        var address: String
        var receiver: String?
        var linePrefix: String?
        var transport: String
        var frames: Int
        var at: Date
    }

    let repositories: Repositories
    let instance: String
    let window: TimeInterval
    let logger: Logger
    /// Per source: when the last entry was written and how many frames came since.
    private let sources = NIOLockedValueBox<[Source: (written: Date, since: Int)]>([:])
    private let entries: AsyncStream<Entry>
    private let continuation: AsyncStream<Entry>.Continuation

    public init(repositories: Repositories, instance: String, window: Duration = .seconds(600), logger: Logger) {
        self.repositories = repositories
        self.instance = instance
        self.window = TimeInterval(window.components.seconds)
        self.logger = logger
        (entries, continuation) = AsyncStream.makeStream(of: Entry.self, bufferingPolicy: .bufferingNewest(256))
    }

    /// Called for every frame the receiver answers; never blocks.
    public func observe(_ observation: DC09ReceiverObservation) {
        guard case .frame(let report) = observation, report.outcome == .refused(.unknownAccount), let header = report.header else { return }
        // The address without the port: a communicator's port changes with every connection.
        let address = String((report.peer.lastIndex(of: ":").map { report.peer[..<$0] } ?? report.peer[...]).prefix(64))
        let source = Source(account: String(header.account.uppercased().prefix(32)), address: address)
        let frames: Int? = sources.withLockedValue { sources in
            if let last = sources[source], report.receivedAt.timeIntervalSince(last.written) < window {
                sources[source] = (last.written, last.since + 1)
                return nil
            }
            // Sources whose window ended are forgotten, so the table holds only the last window's.
            if sources.count > 10_000 { sources = sources.filter { report.receivedAt.timeIntervalSince($0.value.written) < window } }
            let frames = (sources[source]?.since ?? 0) + 1
            sources[source] = (report.receivedAt, 0)
            return frames
        }
        guard let frames else { return }
        continuation.yield(Entry(account: source.account, address: address, receiver: header.receiver, linePrefix: header.linePrefix,
                                 transport: report.transport.rawValue, frames: frames, at: report.receivedAt))
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            for await entry in self.entries {
                await self.write(entry)
            }
        }
    }

    func write(_ entry: Entry) async {
        var details: [String: JSONValue] = [
            "account": .string(entry.account), "transport": .string(entry.transport), "frames": .number(Double(entry.frames)),
            "receiver_instance": .string(instance), "at": .string(ISO8601DateFormatter().string(from: entry.at)),
        ]
        if let receiver = entry.receiver { details["receiver"] = .string(receiver) }
        if let line = entry.linePrefix { details["line_prefix"] = .string(line) }
        do {
            _ = try await repositories.auditEntries.insert(AuditEntry(
                operatorId: nil, action: "dc09.unknown_account", entityType: "dc09_account", entityId: nil, requestId: nil,
                address: entry.address, details: .object(details)))
            logger.warning("DC-09 frames from an unknown account", metadata: [
                "account": .string(entry.account), "address": .string(entry.address), "frames": "\(entry.frames)",
            ])
        } catch {
            logger.error("DC-09 unknown-account security entry not written: \(error)", metadata: ["account": .string(entry.account)])
        }
    }
}
