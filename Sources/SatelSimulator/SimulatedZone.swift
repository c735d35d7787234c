import Satel
/// A zone of the simulated panel: its name, the partition it belongs to and how it reacts when violated.
public struct SimulatedZone: Hashable, Sendable, Codable {
    public enum Reaction: String, Hashable, Sendable, Codable {
        /// Alarms only while its partition is armed (event 130 burglary alarm).
        case burglary
        /// Alarms whatever the arming state (event 110 fire alarm, partition fire alarm bits).
        case fire
        /// A 24-hour burglary zone: alarms whatever the arming state (event 133).
        case alwaysArmed
    }

    public var number: Int
    public var name: String
    public var partition: Int
    public var reaction: Reaction
    /// A temperature zone answers 0x7D; others get no answer at all, as on a real panel.
    public var temperatureCelsius: Double?

    public init(number: Int, name: String, partition: Int, reaction: Reaction = .burglary, temperatureCelsius: Double? = nil) {
        self.number = number
        self.name = name
        self.partition = partition
        self.reaction = reaction
        self.temperatureCelsius = temperatureCelsius
    }

    /// The reaction byte 0xEE reports (a plausible INTEGRA reaction number for each kind).
    var reactionCode: UInt8 {
        switch reaction {
        case .burglary: 1
        case .fire: 10
        case .alwaysArmed: 6
        }
    }
}
