import Foundation
import Generated
import Redis
import Satel

/// The live state of owned panels in Redis: one hash `panel:<id>:state` per panel, written after each
/// commit (never before: Redis must not show what PostgreSQL does not have). It is a cache, rebuilt from
/// the worker's mirror (PostgreSQL rows plus the panel's latest full read) whenever it is found missing.
struct LiveStateStore: Sendable {
    let client: RedisClient

    static func key(_ panelID: UUID) -> String { "panel:\(panelID.uuidString.lowercased()):state" }

    /// `2026-05-28T20:26:40Z`, in UTC.
    static let timestamp = Date.ISO8601FormatStyle()

    /// The hash fields for a mirror: JSON for the collections, so a reader needs one HGETALL.
    static func fields(of mirror: PanelMirror, panel: OwnedPanel, now: Date) -> [(String, String)] {
        struct Zone: Encodable { var number: Int; var state: String; var bypassed: Bool }
        struct Partition: Encodable { var number: Int; var arm_mode: String; var alarm: Bool; var fire_alarm: Bool }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        func json(_ value: some Encodable) -> String {
            (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? "null"
        }
        let zones = mirror.zones.sorted { $0.key < $1.key }
            .map { Zone(number: $0.key, state: $0.value.state.rawValue, bypassed: $0.value.bypassed) }
        let partitions = mirror.partitions.sorted { $0.key < $1.key }
            .map { Partition(number: $0.key, arm_mode: $0.value.armMode.rawValue, alarm: $0.value.alarm, fire_alarm: $0.value.fireAlarm) }
        let outputs = mirror.outputs.filter(\.value).keys.sorted()
        // ISO8601FormatStyle, not ISO8601DateFormatter: same text, but the formatter builds an ICU formatter on
        // every use (~170 µs, two per write), which showed in the worker's profile at 500 panels (WorkerBench).
        let lastSeen = mirror.lastSeen.map { $0.formatted(Self.timestamp) } ?? ""
        return [
            ("connection", mirror.connection.rawValue),
            ("partitions", json(partitions)),
            ("zones", json(zones)),
            ("outputs", json(outputs)),
            ("troubles", json(mirror.troubles ?? TroubleReport(parts: [:]))),
            ("last_seen", lastSeen),
            ("worker", panel.workerID),
            ("fencing_token", String(panel.fencingToken)),
            ("updated_at", now.formatted(Self.timestamp)),
        ]
    }

    func write(_ mirror: PanelMirror, panel: OwnedPanel, now: Date = Date()) async throws {
        _ = try await client.hashSet(Self.key(panel.id), Self.fields(of: mirror, panel: panel, now: now))
    }

    func exists(_ panelID: UUID) async throws -> Bool {
        let reply = try await client.send(["EXISTS", Self.key(panelID)])
        if case .integer(let count) = reply { return count > 0 }
        return false
    }
}
