import Foundation
import Logging
import NIOConcurrencyHelpers
import Outbox
import PostgresNIO

/// Stamps every new outbox row with when it became visible to another session, i.e. committed, WAL flush
/// included: what a relay could act on.
///
/// It LISTENs on the outbox channel (the worker's `OutboxNotifier` NOTIFYs after each commit, as the relays
/// see it) and on each notification reads the rows it has not seen, with
/// `clock_timestamp()`, which runs after the query took its snapshot: a row in the answer was committed
/// before that instant. So each stamp is an upper bound, late by the notification's delivery and the read
/// (well under a millisecond on an idle machine).
///
/// `seq` is taken at insert, not at commit, so a row can appear below one already seen: the reads start
/// from the highest `seq` below which every row was seen. A hole that stays for 5 s is a rolled-back insert
/// (a `seq` that will never appear) and is skipped.
final class OutboxWatcher: Sendable {
    /// `seq` -> wall-clock microseconds since 1970.
    private let stamps = NIOLockedValueBox<[Int64: Int64]>([:])
    private let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    /// When each row became visible, by `seq`.
    var visibleAt: [Int64: Int64] { stamps.withLockedValue { $0 } }

    /// Watches until cancelled. `listener` only listens; `reader` reads.
    func run(listener: PostgresConnection, reader: PostgresConnection) async throws {
        var floor: Int64 = 0
        for try await value in try await reader.query("SELECT coalesce(max(seq), 0)::int8 FROM outbox", logger: logger).decode(Int64.self) {
            floor = value
        }
        let notifications = try await listener.listen(Outbox.channel)
        // Notifications that arrive during a read are answered by one more read, not one each.
        let (wake, wakeUp) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                defer { wakeUp.finish() }
                for try await _ in notifications { wakeUp.yield() }
            }
            var seen = Set<Int64>()
            var holeSince: ContinuousClock.Instant?
            for await _ in wake {
                let rows = try await reader.query("""
                    SELECT seq, (extract(epoch FROM clock_timestamp()) * 1000000)::int8 FROM outbox WHERE seq > \(floor) ORDER BY seq
                    """, logger: logger)
                var fresh: [(Int64, Int64)] = []
                for try await (seq, micros) in rows.decode((Int64, Int64).self) where !seen.contains(seq) {
                    fresh.append((seq, micros))
                    seen.insert(seq)
                }
                stamps.withLockedValue { stamps in
                    for (seq, micros) in fresh { stamps[seq] = micros }
                }
                while seen.remove(floor + 1) != nil { floor += 1 }
                if seen.isEmpty {
                    holeSince = nil
                } else if let since = holeSince, ContinuousClock.now - since > .seconds(5) {
                    floor = seen.min()! - 1
                    holeSince = nil
                    while seen.remove(floor + 1) != nil { floor += 1 }
                } else if holeSince == nil {
                    holeSince = ContinuousClock.now
                }
            }
            group.cancelAll()
        }
    }
}
