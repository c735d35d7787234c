import Alarms
import Foundation
import Generated
import Logging
import Outbox
import Persistence
import PostgresNIO
import Satel
import Database

/// PostgreSQL for the panel side of the worker: claiming a panel, loading what it needs to resume, and
/// committing one update's changes in ONE transaction that starts with the fencing check.
struct PanelStore: Sendable {
    let client: PostgresClient
    let repositories: Repositories
    /// Wakes the relays once a commit has outbox rows in it.
    let outbox: OutboxNotifier
    let alarms: AlarmRaiser
    let logger: Logger
    /// PostgreSQL aborts a panel transaction left idle this long (the lease TTL): a worker paused inside
    /// one (SIGSTOP, a VM freeze) would otherwise keep the row share-locked and the new owner's claim waiting.
    var idleInTransactionTimeout: Duration = .seconds(10)

    /// Records the lease on the panel row (`PanelFencing.claim`). False: a newer owner exists, do not use it.
    func claim(panelID: UUID, fencingToken: Int64, workerID: String) async throws -> Bool {
        try await client.withConnection { connection in
            try await PanelFencing.claim(panelID: panelID, fencingToken: fencingToken, workerID: workerID,
                                         on: connection, logger: logger)
        }
    }

    /// Refreshes `last_seen_at` of the panels whose module answers. A panel whose row carries another token (a newer
    /// owner) is left alone. Hand SQL: an update of many rows, each with its own token.
    ///
    /// In chunks of `heartbeatChunk` rows, each its own statement, skipping rows another transaction holds; those are
    /// touched at the end in a statement of their own, which may wait for them. One statement for all rows held every
    /// row it had updated until the last one was done (about 300 ms for 2,000 panels on the production stack), and
    /// waited for any panel transaction holding a row on its way: a zone violation's transaction on one of those
    /// panels waited behind it, the longest hop of StackBench's p99 at 2,000 panels.
    func touch(_ panels: [(id: UUID, fencingToken: Int64)]) async throws {
        var skipped: [(id: UUID, fencingToken: Int64)] = []
        for start in stride(from: 0, to: panels.count, by: Self.heartbeatChunk) {
            let chunk = panels[start..<min(start + Self.heartbeatChunk, panels.count)]
            let ids = chunk.map(\.id)
            let tokens = chunk.map(\.fencingToken)
            var touched = Set<UUID>()
            for try await id in try await client.query("""
                UPDATE panels p SET last_seen_at = now()
                FROM (SELECT q.id FROM panels q JOIN unnest(\(ids)::uuid[], \(tokens)::bigint[]) AS owned(id, token)
                        ON q.id = owned.id AND q.fencing_token = owned.token
                      FOR NO KEY UPDATE OF q SKIP LOCKED) AS free
                WHERE p.id = free.id
                RETURNING p.id
                """, logger: logger).decode(UUID.self) {
                touched.insert(id)
            }
            // Not returned: held by another transaction, or owned by someone else now (the retry leaves those alone).
            skipped += chunk.filter { !touched.contains($0.id) }
        }
        guard !skipped.isEmpty else { return }
        let ids = skipped.map(\.id)
        let tokens = skipped.map(\.fencingToken)
        try await client.query("""
            UPDATE panels p SET last_seen_at = now()
            FROM unnest(\(ids)::uuid[], \(tokens)::bigint[]) AS owned(id, token)
            WHERE p.id = owned.id AND p.fencing_token = owned.token
            """, logger: logger)
    }

    /// Rows per heartbeat statement: each holds its rows for a few milliseconds.
    static let heartbeatChunk = 100

    /// The current fencing token on the row (to repair a Redis counter that went backwards).
    func storedFencingToken(panelID: UUID) async throws -> Int64? {
        try await repositories.panels.find(id: panelID)?.fencingToken
    }

    /// Everything needed to resume the panel where the last committed transaction left it.
    func load(panelID: UUID) async throws -> PanelRecord {
        guard let panel = try await repositories.panels.find(id: panelID) else {
            throw WorkerError(.panelNotFound, "panel \(panelID) does not exist")
        }
        guard let host = panel.host else {
            throw WorkerError(.noModuleAddress, "panel \(panelID) has no ETHM-1 address: it reports over SIA DC-09 only")
        }
        var cursor: EventLogCursor?
        if let index = panel.eventLogCursor, index != Self.emptyLogCursor,
           let raw = try await repositories.panelEvents.find(panelId: panelID, logIndex: index)?.raw {
            cursor = EventLogCursor(index: EventLogIndex(rawValue: UInt32(index)), record: EventRecord(raw: Array(raw)))
        }
        var mirror = PanelMirror()
        for zone in try await repositories.zones.all(filter: .init(panelId: panelID)) {
            mirror.zones[zone.number] = .init(state: zone.state, bypassed: zone.bypassed)
        }
        for partition in try await repositories.partitions.all(filter: .init(panelId: panelID)) {
            mirror.partitions[partition.number] = .init(armMode: partition.armMode, alarm: partition.alarm, fireAlarm: partition.fireAlarm)
        }
        for output in try await repositories.outputs.all(filter: .init(panelId: panelID)) {
            mirror.outputs[output.number] = output.active
        }
        mirror.connection = panel.connectionState
        return PanelRecord(id: panel.id, siteID: panel.siteId, host: host, port: panel.port,
                           integrationKey: panel.integrationKey?.revealed, pollIntervalMilliseconds: panel.pollIntervalMs, mode: panel.mode,
                           signalPeriodSeconds: panel.signalPeriodS,
                           cursor: cursor, storedCursorIndex: panel.eventLogCursor, mirror: mirror)
    }

    struct CommitOutcome: Sendable {
        /// Records that joined an open alarm of the same incident (raised by SMS) instead of raising one.
        var alarmsJoined = 0
        var eventsStored = 0
        var duplicatesSkipped = 0
        var alarmsRaised = 0
        /// Outbox events committed, for the latency benchmark.
        var outboxRows = 0
    }

    /// `event_log_cursor` of a panel whose log was empty when the worker first read it: nothing to skip,
    /// every record from the start of the log is new. (NULL means "never read": the newest record then is
    /// the starting point.)
    static let emptyLogCursor = -1

    static let gapDescription = "event log records were overwritten before they could be read"
    static let gapTitle = "Event log records lost before they were read: check the panel's own log"

    /// Writes one update's changes: fencing hold, panel events (idempotent on `(panel_id, log_index)`), the
    /// new cursor, alarms, partition/zone/output rows, the connection state and every outbox row, all or none.
    func commit(_ changes: PanelChanges, for panel: OwnedPanel, at now: Date,
                beforeCommit: (@Sendable () async throws -> Void)? = nil) async throws -> CommitOutcome {
        let idleMilliseconds = Int(PanelSession.seconds(idleInTransactionTimeout) * 1000)
        return try await OutboxTransaction.run(on: client, notifier: outbox, logger: logger) { transaction in
            let connection = transaction.connection
            // The idle timeout is transaction-local, not a startup parameter: it also works through PgBouncer's
            // transaction pooling. Set by the fencing statement: one round trip fewer per commit.
            guard try await PanelFencing.hold(panelID: panel.id, fencingToken: panel.fencingToken, idleTimeoutMilliseconds: idleMilliseconds,
                                              on: connection, logger: logger) else {
                throw WorkerError(.fencingRefused, "panel \(panel.id) is owned by a newer lease than \(panel.fencingToken)")
            }
            var outcome = CommitOutcome()
            for event in changes.logEvents {
                try await store(event, for: panel, now: now, in: transaction, outcome: &outcome)
            }
            if changes.gap {
                // Records the ring overwrote before anyone read them may have held alarms: an operator must know,
                // so the gap itself is a technical alarm stacked with burglaries (ask the site, read the panel's own log).
                let id = try await recordEvent(panel: panel, source: .connection, occurredAt: now, description: Self.gapDescription,
                                               summary: "event log gap", in: transaction)
                _ = try await alarms.raise(.init(siteID: panel.siteID, panelID: panel.id, panelEventID: id, kind: .technical,
                                                 priority: .burglary, title: Self.gapTitle),
                                           correlation: .none, in: transaction)
                outcome.alarmsRaised += 1
            }
            // One UPDATE of the panel row at the end; a later assignment of a column replaces an earlier one.
            var panelColumns: [PanelRepository.Assignment] = []
            if changes.emptyLogBaseline { panelColumns.append(.eventLogCursor(Self.emptyLogCursor)) }
            if let cursor = changes.cursor {
                panelColumns += [.eventLogCursor(Int(cursor.index.rawValue)), .lastSeenAt(now)]
            }
            for change in changes.zones {
                try await repositories.zones.upsert(
                    Zone(panelId: panel.id, number: change.number, name: "Zone \(change.number)", state: change.current.state,
                         bypassed: change.current.bypassed, updatedAt: now),
                    onConflict: .panelIdAndNumber, updating: [.state, .bypassed, .updatedAt], on: connection)
                if change.current.state != change.previous.state {
                    _ = try await insertEvent(panel: panel, source: .stateChange, occurredAt: now,
                                              description: "zone \(change.number): \(change.previous.state.rawValue) -> \(change.current.state.rawValue)",
                                              sourceNumber: change.number, on: connection)
                    try await transaction.enqueue(ZoneStateChanged(panelId: panel.id, siteId: panel.siteID, zoneNumber: change.number, state: change.current.state,
                                                                   previous: change.previous.state, at: now))
                }
            }
            for change in changes.partitions {
                // disarmed_at (when it was seen disarmed; open/close supervision) moves only when the arm mode does.
                let armChanged = change.current.armMode != change.previous.armMode
                try await repositories.partitions.upsert(
                    Partition(panelId: panel.id, number: change.number, name: "Partition \(change.number)", armMode: change.current.armMode,
                              alarm: change.current.alarm, fireAlarm: change.current.fireAlarm,
                              disarmedAt: change.current.armMode == .disarmed ? now : nil, updatedAt: now),
                    onConflict: .panelIdAndNumber, updating: [.armMode, .alarm, .fireAlarm, .updatedAt] + (armChanged ? [.disarmedAt] : []),
                    on: connection)
                guard change.current.armMode != change.previous.armMode else { continue }
                if change.current.armMode == .disarmed {
                    try await transaction.enqueue(PartitionDisarmed(panelId: panel.id, siteId: panel.siteID, partitionNumber: change.number, userNumber: nil, at: now))
                } else {
                    try await transaction.enqueue(PartitionArmed(panelId: panel.id, siteId: panel.siteID, partitionNumber: change.number, mode: change.current.armMode,
                                                                 userNumber: nil, at: now))
                }
            }
            for change in changes.outputs {
                try await repositories.outputs.upsert(
                    Output(panelId: panel.id, number: change.number, name: "Output \(change.number)", active: change.active, updatedAt: now),
                    onConflict: .panelIdAndNumber, updating: [.active, .updatedAt], on: connection)
                try await transaction.enqueue(OutputChanged(panelId: panel.id, siteId: panel.siteID, outputNumber: change.number, active: change.active, at: now))
            }
            if let delivery = changes.stateDelivery { panelColumns.append(.stateDelivery(delivery)) }
            if let change = changes.connection {
                panelColumns += try await record(change, for: panel, at: now, in: transaction)
            }
            if !panelColumns.isEmpty { try await repositories.panels.update(id: panel.id, set: panelColumns, on: connection) }
            // The crash test's hook: everything is written, nothing committed yet.
            if let beforeCommit { try await beforeCommit() }
            outcome.outboxRows = transaction.enqueuedEvents
            return outcome
        }
    }

    private func store(_ event: LoggedEvent, for panel: OwnedPanel, now: Date, in transaction: OutboxTransaction,
                       outcome: inout CommitOutcome) async throws {
        let connection = transaction.connection
        let record = event.record
        let index = Int(event.index.rawValue)
        // The log is a ring: once it wraps, an index names a newer record. The older row keeps its bytes but
        // gives up the index, so the unique key still tells a re-read (the same event) from a new record. The
        // same event: equal bytes but for the monitoring-status bits (`EventRecord.identity`), which the panel
        // changes once it has reported the event to a station. Hand SQL: a byte mask no repository method says.
        let identity = Data(record.identity)
        let mask = Int(EventRecord.identityMaskOfByte0)
        try await connection.query("""
            UPDATE panel_events SET log_index = NULL
            WHERE panel_id = \(panel.id) AND log_index = \(index)
              AND (raw IS NULL OR set_byte(raw, 0, get_byte(raw, 0) & \(mask)::int) IS DISTINCT FROM \(identity))
            """, logger: logger)
        let occurredAt = Self.occurredAt(record, now: now)
        let description = String(record.descriptionText.prefix(200))
        guard let stored = try await repositories.panelEvents.insertIfAbsent(
            PanelEvent(panelId: panel.id, source: .eventLog, logIndex: index, occurredAt: occurredAt, receivedAt: now,
                       eventClass: Int(record.eventClass.rawValue), eventCode: record.code, restore: record.isRestore,
                       partitionNumber: record.partition, sourceNumber: record.source, description: description,
                       raw: Data(record.raw), fencingToken: panel.fencingToken),
            onConflict: .panelIdAndLogIndex, on: connection)
        else {
            // Already committed by an earlier attempt: the re-read after a lost commit. No second effect.
            outcome.duplicatesSkipped += 1
            return
        }
        outcome.eventsStored += 1
        try await transaction.enqueue(PanelEventRecorded(
            panelId: panel.id, siteId: panel.siteID, panelEventId: stored.id, source: .eventLog, logIndex: index, eventCode: record.code,
            restore: record.isRestore, description: description, occurredAt: occurredAt))
        guard let alarm = AlarmClassifier.classify(record) else { return }
        let zone: Int? = record.eventClass == .zoneAndTamperAlarms ? record.source : nil
        // The title names the place as the site's descriptions do ("Burglary - Warehouse / Zone 3 Back door").
        // Only alarms of zones and partitions name a partition (a trouble's partition field means nothing).
        var partitionPlace: AlarmTitle.Place?
        if record.eventClass == .zoneAndTamperAlarms || record.eventClass == .partitionAndExpanderAlarms {
            partitionPlace = AlarmTitle.Place(
                number: record.partition,
                description: try await repositories.partitions.find(panelId: panel.id, number: record.partition, on: connection)?.description)
        }
        var zonePlace: AlarmTitle.Place?
        if let zone {
            zonePlace = AlarmTitle.Place(number: zone, description: try await repositories.zones.find(panelId: panel.id, number: zone, on: connection)?.description)
        }
        let title = AlarmTitle.compose(kind: alarm.kind, partition: partitionPlace, zone: zonePlace, event: alarm.title)
        // The panel's GSM module may have reported the same incident by SMS a moment ago: that alarm takes this
        // record (its event, zone and partition) instead of a second alarm appearing.
        let raised = try await alarms.raise(
            .init(siteID: panel.siteID, panelID: panel.id, panelEventID: stored.id, kind: alarm.kind, priority: alarm.priority,
                  title: title, zone: zone, partition: record.partition, receivedAt: now),
            correlation: .eventLogRecord, in: transaction)
        switch raised {
        case .raised: outcome.alarmsRaised += 1
        case .joined(let joined):
            outcome.alarmsJoined += 1
            logger.notice("event-log record joined the open alarm of its SMS", metadata: ["alarm_id": "\(joined)", "log_index": "\(index)"])
        }
    }

    /// The connection change's events; returns the panel columns it changes.
    private func record(_ change: PanelChanges.ConnectionChange, for panel: OwnedPanel, at now: Date,
                        in transaction: OutboxTransaction) async throws -> [PanelRepository.Assignment] {
        switch change {
        case .connected(let identity):
            let model = identity.map { Self.model($0.model) } ?? .unknown
            let firmware = identity.map { String($0.integra.firmware.display.prefix(64)) }
            _ = try await recordEvent(panel: panel, source: .connection, occurredAt: now, description: "connected (\(model.rawValue))",
                                      summary: "connected", in: transaction)
            try await transaction.enqueue(PanelConnected(panelId: panel.id, siteId: panel.siteID, model: model, firmware: firmware, worker: panel.workerID,
                                                         fencingToken: panel.fencingToken, at: now))
            // A module that did not say its firmware keeps the one it said before.
            return [.connectionState(.connected), .model(model), .lastSeenAt(now)] + (firmware.map { [.firmware($0)] } ?? [])
        case .released:
            return [.connectionState(.disconnected)]
        case .disconnected(let reason, let state):
            _ = try await recordEvent(panel: panel, source: .connection, occurredAt: now,
                                      description: String("\(state.rawValue): \(reason)".prefix(200)), summary: state.rawValue, in: transaction)
            try await transaction.enqueue(PanelDisconnected(panelId: panel.id, siteId: panel.siteID, reason: reason, worker: panel.workerID, at: now))
            return [.connectionState(state)]
        }
    }

    /// A `panel_events` row the worker itself writes (not an event-log record) and its `PanelEventRecorded`.
    private func recordEvent(panel: OwnedPanel, source: EventSource, occurredAt: Date, description: String, summary: String,
                             in transaction: OutboxTransaction) async throws -> UUID {
        let id = try await insertEvent(panel: panel, source: source, occurredAt: occurredAt, description: description,
                                       on: transaction.connection)
        try await transaction.enqueue(PanelEventRecorded(
            panelId: panel.id, siteId: panel.siteID, panelEventId: id, source: source, logIndex: nil, eventCode: nil, restore: false,
            description: summary, occurredAt: occurredAt))
        return id
    }

    private func insertEvent(panel: OwnedPanel, source: EventSource, occurredAt: Date, description: String,
                             sourceNumber: Int? = nil, on connection: PostgresConnection) async throws -> UUID {
        try await repositories.panelEvents.insert(PanelEvent(
            panelId: panel.id, source: source, occurredAt: occurredAt, receivedAt: occurredAt,
            sourceNumber: sourceNumber, description: String(description.prefix(200)), fencingToken: panel.fencingToken),
            on: connection).id
    }

    /// The record's panel-clock time, read in the worker's time zone (a panel keeps local time; the station
    /// runs in the same zone). A record with an impossible date falls back to the time it was read.
    static func occurredAt(_ record: EventRecord, now: Date) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .current
        guard (1...12).contains(record.month), (1...31).contains(record.day) else { return now }
        let year = record.year(near: calendar.component(.year, from: now))
        let components = DateComponents(year: year, month: record.month, day: record.day, hour: record.hour, minute: record.minute)
        return calendar.date(from: components) ?? now
    }

    static func model(_ model: Satel.PanelModel) -> Generated.PanelModel {
        switch model.typeCode {
        case Satel.PanelModel.integra24.typeCode: .integra24
        case Satel.PanelModel.integra32.typeCode: .integra32
        case Satel.PanelModel.integra64.typeCode: .integra64
        case Satel.PanelModel.integra64Plus.typeCode: .integra64Plus
        case Satel.PanelModel.integra128.typeCode: .integra128
        case Satel.PanelModel.integra128Plus.typeCode: .integra128Plus
        case Satel.PanelModel.integra128WRLSIM300.typeCode, Satel.PanelModel.integra128WRLLeon.typeCode: .integra128Wrl
        case Satel.PanelModel.integra256Plus.typeCode: .integra256Plus
        default: .unknown
        }
    }
}
