import Foundation
import Generated
import Redis
import Satel
import StamCore

/// The live state of owned panels in Redis: one hash `panel:<id>:state` per panel (`PanelLiveState`), written after each
/// commit (never before: Redis must not show what PostgreSQL does not have). It is a cache, rebuilt from
/// the worker's mirror (PostgreSQL rows plus the panel's latest full read) whenever it is found missing.
struct LiveStateStore: Sendable {
    let client: RedisClient

    static func key(_ panelID: UUID) -> String { PanelLiveState.key(of: panelID) }

    /// `2026-05-28T20:26:40Z`, in UTC.
    static let timestamp = Date.ISO8601FormatStyle()

    /// The live state of a mirror, in the shape the backend reads (`PanelLiveState`).
    static func state(of mirror: PanelMirror, panel: OwnedPanel, now: Date) -> PanelLiveState {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let troubles = (try? String(decoding: encoder.encode(mirror.troubles ?? TroubleReport(parts: [:])), as: UTF8.self)) ?? "null"
        // ISO8601FormatStyle, not ISO8601DateFormatter: same text, but the formatter builds an ICU formatter on
        // every use (~170 µs, two per write), which showed in the worker's profile at 500 panels (WorkerBench).
        return PanelLiveState(
            connection: mirror.connection.rawValue,
            partitions: mirror.partitions.sorted { $0.key < $1.key }.map {
                .init(number: $0.key, armMode: $0.value.armMode.rawValue, alarm: $0.value.alarm, fireAlarm: $0.value.fireAlarm)
            },
            zones: mirror.zones.sorted { $0.key < $1.key }.map { .init(number: $0.key, state: $0.value.state.rawValue, bypassed: $0.value.bypassed) },
            outputs: mirror.outputs.filter(\.value).keys.sorted(),
            troubles: troubles,
            lastSeen: mirror.lastSeen.map { $0.formatted(Self.timestamp) } ?? "",
            worker: panel.workerID,
            fencingToken: panel.fencingToken,
            updatedAt: now.formatted(Self.timestamp))
    }

    func write(_ mirror: PanelMirror, panel: OwnedPanel, now: Date = Date()) async throws {
        _ = try await client.hashSet(Self.key(panel.id), Self.state(of: mirror, panel: panel, now: now).hashFields)
    }

    func exists(_ panelID: UUID) async throws -> Bool {
        let reply = try await client.send(["EXISTS", Self.key(panelID)])
        if case .integer(let count) = reply { return count > 0 }
        return false
    }
}
