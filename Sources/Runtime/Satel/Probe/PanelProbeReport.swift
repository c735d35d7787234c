/// What the installer's probe found, ready to print as text or JSON.
public struct PanelProbeReport: Hashable, Sendable, Codable {
    public struct Capacities: Hashable, Sendable, Codable {
        public var partitions: Int
        public var zones: Int
        public var outputs: Int
        public var users: Int
    }

    /// One object in a list, with its name when it was read.
    public struct Object: Hashable, Sendable, Codable {
        public var number: Int
        public var name: String?
    }

    public struct ArmedPartition: Hashable, Sendable, Codable {
        public var number: Int
        public var name: String?
        /// 0 = full, 1–3 = the partial modes.
        public var mode: Int
        public var modeName: String
    }

    public struct Event: Hashable, Sendable, Codable {
        public var index: String
        /// `2026-05-05 20:18` (the year rebuilt from the record's year mod 4 against the panel clock).
        public var time: String
        public var eventClass: String
        public var code: Int
        public var restore: Bool
        public var description: String
        public var partition: Int
        public var source: Int
        public var object: Int
        public var userControlNumber: Int
        public var raw: String
    }

    /// A read the module did not serve; the probe carried on without it.
    public struct NotServed: Hashable, Sendable, Codable {
        public var code: Int
        public var command: String
        /// `refused` (EF), `unreadable`, or `unanswered` (asked twice).
        public var reason: String
    }

    /// Whether the module pushes state changes (monitoring mode, doc §3.7): the probe asks as the worker does.
    public struct StateDeliveryFinding: Hashable, Sendable, Codable {
        /// `push` or `poll`.
        public var mode: String
        /// Why the worker would poll: `refused`, `unanswered` (nil when it pushes).
        public var reason: String?

        init(_ delivery: StateDelivery) {
            switch delivery {
            case .pushed:
                mode = "push"
            case .polled(let reason):
                mode = "poll"
                self.reason = reason.rawValue
            }
        }
    }

    public var host: String
    public var port: Int
    public var encrypted: Bool
    public var model: String
    public var typeCode: Int
    public var panelFirmware: String
    public var moduleFirmware: String?
    public var moduleCapabilities: Int?
    public var uses32ByteLists: Bool
    public var capacities: Capacities
    public var panelClock: String?
    public var violatedZones: [Object]
    public var bypassedZones: [Object]
    public var zonesInAlarm: [Object]
    public var tamperedZones: [Object]
    public var armedPartitions: [ArmedPartition]
    public var partitionsInAlarm: [Object]
    public var outputsOn: [Object]
    public var troubles: TroubleReport
    public var events: [Event]
    /// What the module did not answer (older firmware stays silent on commands it does not know).
    public var notServed: [NotServed] = []
    /// Monitoring mode asked for after the full read, as the worker asks for it (nil: the probe ended before).
    public var stateDelivery: StateDeliveryFinding?
}
