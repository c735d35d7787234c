import Foundation

/// The live state of one panel, as the worker that owns it keeps it in Redis (one hash per panel, `key(of:)`) and
/// the backend reads it for a console's snapshot: the one definition of the key and the fields for both processes.
/// The collections are JSON text in their fields, so a reader needs one HGETALL.
public struct PanelLiveState: Sendable, Equatable {
    public struct Zone: Codable, Sendable, Equatable {
        public var number: Int
        /// A `ZoneState` raw value.
        public var state: String
        public var bypassed: Bool

        public init(number: Int, state: String, bypassed: Bool) {
            self.number = number
            self.state = state
            self.bypassed = bypassed
        }
    }

    public struct Partition: Codable, Sendable, Equatable {
        public var number: Int
        /// An `ArmMode` raw value.
        public var armMode: String
        public var alarm: Bool
        public var fireAlarm: Bool

        public init(number: Int, armMode: String, alarm: Bool, fireAlarm: Bool) {
            self.number = number
            self.armMode = armMode
            self.alarm = alarm
            self.fireAlarm = fireAlarm
        }

        enum CodingKeys: String, CodingKey {
            case number, alarm
            case armMode = "arm_mode"
            case fireAlarm = "fire_alarm"
        }
    }

    /// A `PanelConnectionState` raw value.
    public var connection: String
    public var partitions: [Partition]
    public var zones: [Zone]
    /// The numbers of the outputs that are on.
    public var outputs: [Int]
    /// The panel's trouble report as JSON text (the worker's `TroubleReport`).
    public var troubles: String
    /// When the panel last answered (`2026-05-28T20:26:40Z`), empty before it ever did.
    public var lastSeen: String
    /// The worker that owns the panel and wrote this state, and its lease's fencing token.
    public var worker: String
    public var fencingToken: Int64
    public var updatedAt: String

    public init(connection: String, partitions: [Partition], zones: [Zone], outputs: [Int], troubles: String, lastSeen: String,
                worker: String, fencingToken: Int64, updatedAt: String) {
        self.connection = connection
        self.partitions = partitions
        self.zones = zones
        self.outputs = outputs
        self.troubles = troubles
        self.lastSeen = lastSeen
        self.worker = worker
        self.fencingToken = fencingToken
        self.updatedAt = updatedAt
    }

    /// `panel:<id>:state`, the id in lower case.
    public static func key(of panelID: UUID) -> String { "panel:\(panelID.uuidString.lowercased()):state" }

    /// The hash's fields, in a fixed order.
    public var hashFields: [(String, String)] {
        [
            ("connection", connection),
            ("partitions", Self.json(partitions)),
            ("zones", Self.json(zones)),
            ("outputs", Self.json(outputs)),
            ("troubles", troubles),
            ("last_seen", lastSeen),
            ("worker", worker),
            ("fencing_token", String(fencingToken)),
            ("updated_at", updatedAt),
        ]
    }

    /// A hash read back; throws naming the field that is missing or does not parse.
    public init(hash: [String: String]) throws {
        func field(_ name: String) throws -> String {
            guard let value = hash[name] else { throw Malformed(field: name, reason: "missing") }
            return value
        }
        func decoded<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
            do {
                return try JSONDecoder().decode(type, from: Data(try field(name).utf8))
            } catch let error as Malformed {
                throw error
            } catch {
                throw Malformed(field: name, reason: "not the expected JSON: \(error)")
            }
        }
        guard let fencingToken = Int64(try field("fencing_token")) else { throw Malformed(field: "fencing_token", reason: "not an integer") }
        self.init(connection: try field("connection"), partitions: try decoded("partitions", as: [Partition].self),
                  zones: try decoded("zones", as: [Zone].self), outputs: try decoded("outputs", as: [Int].self),
                  troubles: try field("troubles"), lastSeen: try field("last_seen"), worker: try field("worker"),
                  fencingToken: fencingToken, updatedAt: try field("updated_at"))
    }

    /// A hash that is not a panel's live state.
    public struct Malformed: Error, CustomStringConvertible {
        public var field: String
        public var reason: String
        public var description: String { "panel live state: field '\(field)' \(reason)" }
    }

    /// Sorted keys, so equal states write equal bytes. One encoder for every write (it is only configured once).
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    private static func json(_ value: some Encodable) -> String {
        (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? "null"
    }
}
