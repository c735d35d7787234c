import Satel
/// Something that happens at the simulated panel's premises (not through the integration link): what a
/// scenario step or the control API asks for.
public enum PanelAction: Hashable, Sendable {
    case violateZone(Int)
    case restoreZone(Int)
    case tamperZone(Int)
    case restoreTamper(Int)
    /// An output driven by the panel itself (a siren, a timer), not by a client command.
    case setOutput(Int, on: Bool)
    /// Arming at a keypad by a user (no code check: the user stands in front of it).
    case armAtKeypad(partitions: [Int], mode: ArmMode, user: Int)
    case disarmAtKeypad(partitions: [Int], user: Int)
    /// Sets or clears one trouble bit (bit 1 = byte 0 bit 0 of the part).
    case setTrouble(TroublePart, bit: Int, active: Bool)
    case setTemperature(zone: Int, celsius: Double?)
    /// The module stops answering requests (a hung module or a half-open link) or starts again.
    case setAnswering(Bool)
    /// The module stays silent on these commands (by their code) and answers the rest, as modules with older firmware
    /// do with commands they do not know; an empty set answers everything again.
    case setSilentCommands(Set<UInt8>)
    /// The next control command is carried out, then the module stops answering (as `setAnswering(false)`) before
    /// it sends the result: the client cannot know what happened.
    case silentAfterControl
    /// From now on the module answers monitoring requests this way (and, for `stopPushing`, stops pushing at once).
    case setMonitoringPolicy(MonitoringPolicy)
    /// The panel reported its events to monitoring station 1 or 2: every record's S1/S2 bits become "sent",
    /// as an INTEGRA does after reporting (the bytes of records already read change; the events do not).
    case reportToStation(Int)
    /// Writes an arbitrary record to the event log (for tests of decoding and walking).
    case logEvent(code: Int, restore: Bool, partition: Int, source: Int)
}
