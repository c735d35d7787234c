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

    /// The current fencing token on the row (to repair a Redis counter that went backwards).
    func storedFencingToken(panelID: UUID) async throws -> Int64? {
        let rows = try await client.query("SELECT fencing_token FROM panels WHERE id = \(panelID)", logger: logger)
        for try await token in rows.decode(Int64.self) { return token }
        return nil
    }

    /// Everything needed to resume the panel where the last committed transaction left it.
    func load(panelID: UUID) async throws -> PanelRecord {
        guard let panel = try await repositories.panels.find(id: panelID) else {
            throw WorkerError(.panelNotFound, "panel \(panelID) does not exist")
        }
        var cursor: EventLogCursor?
        if let index = panel.eventLogCursor, index != Self.emptyLogCursor {
            let rows = try await client.query("""
                SELECT raw FROM panel_events WHERE panel_id = \(panelID) AND log_index = \(index) AND raw IS NOT NULL
                """, logger: logger)
            for try await raw in rows.decode(Data.self) {
                cursor = EventLogCursor(index: EventLogIndex(rawValue: UInt32(index)), record: EventRecord(raw: Array(raw)))
            }
        }
        var mirror = PanelMirror()
        for try await (number, state, bypassed) in try await client.query(
            "SELECT number, state, bypassed FROM zones WHERE panel_id = \(panelID)", logger: logger
        ).decode((Int, String, Bool).self) {
            mirror.zones[number] = .init(state: ZoneState(rawValue: state) ?? .normal, bypassed: bypassed)
        }
        for try await (number, mode, alarm, fire) in try await client.query(
            "SELECT number, arm_mode, alarm, fire_alarm FROM partitions WHERE panel_id = \(panelID)", logger: logger
        ).decode((Int, String, Bool, Bool).self) {
            mirror.partitions[number] = .init(armMode: Generated.ArmMode(rawValue: mode) ?? .disarmed, alarm: alarm, fireAlarm: fire)
        }
        for try await (number, active) in try await client.query(
            "SELECT number, active FROM outputs WHERE panel_id = \(panelID)", logger: logger
        ).decode((Int, Bool).self) {
            mirror.outputs[number] = active
        }
        mirror.connection = panel.connectionState
        return PanelRecord(id: panel.id, siteID: panel.siteId, host: panel.host, port: panel.port,
                           integrationKey: panel.integrationKey?.revealed, pollIntervalMilliseconds: panel.pollIntervalMs,
                           cursor: cursor, emptyLogBaseline: panel.eventLogCursor == Self.emptyLogCursor, mirror: mirror)
    }

    struct CommitOutcome: Sendable {
        /// Records that joined an open alarm of the same incident (raised by SMS) instead of raising one.
        var alarmsJoined = 0
        var eventsStored = 0
        var duplicatesSkipped = 0
        var alarmsRaised = 0
        /// Event ids committed, for the latency benchmark.
        var outboxRows = 0
    }

    /// `event_log_cursor` of a panel whose log was empty when the worker first read it: nothing to skip,
    /// every record from the start of the log is new. (NULL means "never read": the newest record then is
    /// the starting point.)
    static let emptyLogCursor = -1

    /// Writes one update's changes: fencing hold, panel events (idempotent on `(panel_id, log_index)`), the
    /// new cursor, alarms, partition/zone/output rows, the connection state and every outbox row, all or none.
    static let gapDescription = "event log records were overwritten before they could be read"
    static let gapTitle = "Event log records lost before they were read: check the panel's own log"

    func commit(_ changes: PanelChanges, for panel: OwnedPanel, at now: Date,
                beforeCommit: (@Sendable () async throws -> Void)? = nil) async throws -> CommitOutcome {
        let idleMilliseconds = Int(PanelSession.seconds(idleInTransactionTimeout) * 1000)
        let outcome = try await client.withTransaction(logger: logger) { connection in
            // The idle timeout is transaction-local, not a startup parameter: it also works through PgBouncer's
            // transaction pooling. Set by the fencing statement: one round trip fewer per commit.
            guard try await PanelFencing.hold(panelID: panel.id, fencingToken: panel.fencingToken, idleTimeoutMilliseconds: idleMilliseconds,
                                              on: connection, logger: logger) else {
                throw WorkerError(.fencingRefused, "panel \(panel.id) is owned by a newer lease than \(panel.fencingToken)")
            }
            var outcome = CommitOutcome()
            for event in changes.logEvents {
                try await store(event, for: panel, now: now, on: connection, outcome: &outcome)
            }
            if changes.gap {
                // Records the ring overwrote before anyone read them may have held alarms: an operator must know,
                // so the gap itself is a high-priority technical alarm (ask the site, read the panel's own log).
                let id = try await insertEvent(panel: panel, source: .connection, occurredAt: now,
                                               description: Self.gapDescription, on: connection)
                try await Outbox.enqueue(PanelEventRecorded(
                    panelId: panel.id, panelEventId: id, source: .connection, logIndex: nil, eventCode: nil, restore: false,
                    description: "event log gap", occurredAt: now), on: connection, logger: logger)
                let alarmID = UUID()
                let raisedAt = try await AlarmCorrelation.raise(
                    id: alarmID, siteID: panel.siteID, panelID: panel.id, panelEventID: id, kind: AlarmKind.technical.rawValue,
                    priority: AlarmPriority.high.rawValue, state: AlarmState.new.rawValue, title: Self.gapTitle,
                    on: connection, logger: logger)
                try await Outbox.enqueue(AlarmRaised(
                    alarmId: alarmID, siteId: panel.siteID, panelId: panel.id, kind: .technical, priority: .high,
                    title: Self.gapTitle, zoneNumber: nil, partitionNumber: nil, raisedAt: raisedAt), on: connection, logger: logger)
                outcome.alarmsRaised += 1
                outcome.outboxRows += 2
            }
            if changes.emptyLogBaseline {
                try await connection.query("""
                    UPDATE panels SET event_log_cursor = \(Self.emptyLogCursor) WHERE id = \(panel.id) AND event_log_cursor IS NULL
                    """, logger: logger)
            }
            if let cursor = changes.cursor {
                try await connection.query("""
                    UPDATE panels SET event_log_cursor = \(Int(cursor.index.rawValue)), last_seen_at = \(now) WHERE id = \(panel.id)
                    """, logger: logger)
            }
            for change in changes.zones {
                try await connection.query("""
                    INSERT INTO zones (id, panel_id, number, name, state, bypassed, updated_at)
                    VALUES (\(UUID()), \(panel.id), \(change.number), \("Zone \(change.number)"), \(change.current.state.rawValue),
                            \(change.current.bypassed), \(now))
                    ON CONFLICT (panel_id, number) DO UPDATE
                    SET state = EXCLUDED.state, bypassed = EXCLUDED.bypassed, updated_at = EXCLUDED.updated_at
                    """, logger: logger)
                if change.current.state != change.previous.state {
                    _ = try await insertEvent(panel: panel, source: .stateChange, occurredAt: now,
                                              description: "zone \(change.number): \(change.previous.state.rawValue) -> \(change.current.state.rawValue)",
                                              sourceNumber: change.number, on: connection)
                    try await Outbox.enqueue(ZoneStateChanged(panelId: panel.id, zoneNumber: change.number, state: change.current.state,
                                                              previous: change.previous.state, at: now), on: connection, logger: logger)
                    outcome.outboxRows += 1
                }
            }
            for change in changes.partitions {
                try await connection.query("""
                    INSERT INTO partitions (id, panel_id, number, name, arm_mode, alarm, fire_alarm, updated_at)
                    VALUES (\(UUID()), \(panel.id), \(change.number), \("Partition \(change.number)"), \(change.current.armMode.rawValue),
                            \(change.current.alarm), \(change.current.fireAlarm), \(now))
                    ON CONFLICT (panel_id, number) DO UPDATE
                    SET arm_mode = EXCLUDED.arm_mode, alarm = EXCLUDED.alarm, fire_alarm = EXCLUDED.fire_alarm, updated_at = EXCLUDED.updated_at
                    """, logger: logger)
                guard change.current.armMode != change.previous.armMode else { continue }
                if change.current.armMode == .disarmed {
                    try await Outbox.enqueue(PartitionDisarmed(panelId: panel.id, partitionNumber: change.number, userNumber: nil, at: now),
                                             on: connection, logger: logger)
                } else {
                    try await Outbox.enqueue(PartitionArmed(panelId: panel.id, partitionNumber: change.number, mode: change.current.armMode,
                                                            userNumber: nil, at: now), on: connection, logger: logger)
                }
                outcome.outboxRows += 1
            }
            for change in changes.outputs {
                try await connection.query("""
                    INSERT INTO outputs (id, panel_id, number, name, active, updated_at)
                    VALUES (\(UUID()), \(panel.id), \(change.number), \("Output \(change.number)"), \(change.active), \(now))
                    ON CONFLICT (panel_id, number) DO UPDATE SET active = EXCLUDED.active, updated_at = EXCLUDED.updated_at
                    """, logger: logger)
                try await Outbox.enqueue(OutputChanged(panelId: panel.id, outputNumber: change.number, active: change.active, at: now),
                                         on: connection, logger: logger)
                outcome.outboxRows += 1
            }
            if let change = changes.connection {
                try await record(change, for: panel, at: now, on: connection)
                if change != .released { outcome.outboxRows += 2 }
            }
            // The crash test's hook: everything is written, nothing committed yet.
            if let beforeCommit { try await beforeCommit() }
            return outcome
        }
        if outcome.outboxRows > 0 { outbox.signal() }
        return outcome
    }

    private func store(_ event: LoggedEvent, for panel: OwnedPanel, now: Date, on connection: PostgresConnection,
                       outcome: inout CommitOutcome) async throws {
        let record = event.record
        let index = Int(event.index.rawValue)
        let raw = Data(record.raw)
        // The log is a ring: once it wraps, an index names a newer record. The older row keeps its bytes but
        // gives up the index, so the unique key still tells a re-read (the same event) from a new record. The
        // same event: equal bytes but for the monitoring-status bits (`EventRecord.identity`), which the panel
        // changes once it has reported the event to a station.
        let identity = Data(record.identity)
        let mask = Int(EventRecord.identityMaskOfByte0)
        try await connection.query("""
            UPDATE panel_events SET log_index = NULL
            WHERE panel_id = \(panel.id) AND log_index = \(index)
              AND (raw IS NULL OR set_byte(raw, 0, get_byte(raw, 0) & \(mask)::int) IS DISTINCT FROM \(identity))
            """, logger: logger)
        let occurredAt = Self.occurredAt(record, now: now)
        let description = String(record.descriptionText.prefix(200))
        let rows = try await connection.query("""
            INSERT INTO panel_events (id, panel_id, source, log_index, occurred_at, received_at, event_class, event_code, restore,
                                      partition_number, source_number, description, raw, fencing_token)
            VALUES (\(UUID()), \(panel.id), \(EventSource.eventLog.rawValue), \(index), \(occurredAt), \(now),
                    \(Int(record.eventClass.rawValue)), \(record.code), \(record.isRestore), \(record.partition), \(record.source),
                    \(description), \(raw), \(panel.fencingToken))
            ON CONFLICT (panel_id, log_index) DO NOTHING
            RETURNING id
            """, logger: logger)
        var inserted: UUID?
        for try await id in rows.decode(UUID.self) { inserted = id }
        guard let eventID = inserted else {
            // Already committed by an earlier attempt: the re-read after a lost commit. No second effect.
            outcome.duplicatesSkipped += 1
            return
        }
        outcome.eventsStored += 1
        try await Outbox.enqueue(PanelEventRecorded(
            panelId: panel.id, panelEventId: eventID, source: .eventLog, logIndex: index, eventCode: record.code,
            restore: record.isRestore, description: description, occurredAt: occurredAt), on: connection, logger: logger)
        outcome.outboxRows += 1
        guard let alarm = AlarmClassifier.classify(record) else { return }
        let zone: Int? = record.eventClass == .zoneAndTamperAlarms ? record.source : nil
        // The panel's GSM module may have reported the same incident by SMS a moment ago: that alarm takes this
        // record (its event, zone and partition) instead of a second alarm appearing.
        try await AlarmCorrelation.lock(panelID: panel.id, on: connection, logger: logger)
        if let joined = try await AlarmCorrelation.openAlarm(panelID: panel.id, kind: alarm.kind.rawValue, withoutPanelEvent: true,
                                                             on: connection, logger: logger) {
            try await AlarmCorrelation.join(alarm: joined, panelEvent: eventID, zone: zone, partition: record.partition,
                                            on: connection, logger: logger)
            outcome.alarmsJoined += 1
            logger.notice("event-log record joined the open alarm of its SMS", metadata: ["alarm_id": "\(joined)", "log_index": "\(index)"])
            return
        }
        let alarmID = UUID()
        let raisedAt = try await AlarmCorrelation.raise(
            id: alarmID, siteID: panel.siteID, panelID: panel.id, panelEventID: eventID, kind: alarm.kind.rawValue,
            priority: alarm.priority.rawValue, state: AlarmState.new.rawValue, title: alarm.title, zone: zone, partition: record.partition,
            on: connection, logger: logger)
        try await Outbox.enqueue(AlarmRaised(
            alarmId: alarmID, siteId: panel.siteID, panelId: panel.id, kind: alarm.kind, priority: alarm.priority,
            title: alarm.title, zoneNumber: zone, partitionNumber: record.partition, raisedAt: raisedAt), on: connection, logger: logger)
        outcome.alarmsRaised += 1
        outcome.outboxRows += 1
    }

    private func record(_ change: PanelChanges.ConnectionChange, for panel: OwnedPanel, at now: Date,
                        on connection: PostgresConnection) async throws {
        switch change {
        case .connected(let identity):
            let model = identity.map { Self.model($0.model) } ?? .unknown
            let firmware = identity.map { String($0.integra.firmware.display.prefix(64)) }
            try await connection.query("""
                UPDATE panels SET connection_state = \(PanelConnectionState.connected.rawValue), model = \(model.rawValue),
                       firmware = COALESCE(\(firmware), firmware), last_seen_at = \(now)
                WHERE id = \(panel.id)
                """, logger: logger)
            let id = try await insertEvent(panel: panel, source: .connection, occurredAt: now,
                                           description: "connected (\(model.rawValue))", on: connection)
            try await Outbox.enqueue(PanelEventRecorded(
                panelId: panel.id, panelEventId: id, source: .connection, logIndex: nil, eventCode: nil, restore: false,
                description: "connected", occurredAt: now), on: connection, logger: logger)
            try await Outbox.enqueue(PanelConnected(panelId: panel.id, model: model, firmware: firmware, worker: panel.workerID,
                                                    fencingToken: panel.fencingToken, at: now), on: connection, logger: logger)
        case .released:
            try await connection.query("""
                UPDATE panels SET connection_state = \(PanelConnectionState.disconnected.rawValue) WHERE id = \(panel.id)
                """, logger: logger)
        case .disconnected(let reason, let state):
            try await connection.query("""
                UPDATE panels SET connection_state = \(state.rawValue) WHERE id = \(panel.id)
                """, logger: logger)
            let id = try await insertEvent(panel: panel, source: .connection, occurredAt: now,
                                           description: String("\(state.rawValue): \(reason)".prefix(200)), on: connection)
            try await Outbox.enqueue(PanelEventRecorded(
                panelId: panel.id, panelEventId: id, source: .connection, logIndex: nil, eventCode: nil, restore: false,
                description: state.rawValue, occurredAt: now), on: connection, logger: logger)
            try await Outbox.enqueue(PanelDisconnected(panelId: panel.id, reason: reason, worker: panel.workerID, at: now),
                                     on: connection, logger: logger)
        }
    }

    private func insertEvent(panel: OwnedPanel, source: EventSource, occurredAt: Date, description: String,
                             sourceNumber: Int? = nil, on connection: PostgresConnection) async throws -> UUID {
        let id = UUID()
        try await connection.query("""
            INSERT INTO panel_events (id, panel_id, source, occurred_at, received_at, description, source_number, fencing_token)
            VALUES (\(id), \(panel.id), \(source.rawValue), \(occurredAt), \(occurredAt), \(String(description.prefix(200))),
                    \(sourceNumber), \(panel.fencingToken))
            """, logger: logger)
        return id
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
