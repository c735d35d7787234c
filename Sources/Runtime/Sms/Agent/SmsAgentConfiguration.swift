/// Everything `SmsAgent` needs to know that is not a live object.
public struct SmsAgentConfiguration: Sendable {
    public var device: String
    public var baud: Int
    public var hardwareFlowControl: Bool
    public var modem: ModemStateMachine.Configuration
    /// Holds the part store (`parts/`); must survive restarts (a volume in containers).
    public var stateDirectory: String
    /// How long the parts of a concatenated message wait for the rest before a partial message is published.
    public var partialTimeout: Duration
    /// Reopening a modem that disappeared or stopped answering: first and longest wait.
    public var reopenInitialDelay: Duration
    public var reopenMaximumDelay: Duration

    public init(device: String = "/dev/ttyUSB0", baud: Int = 115_200, hardwareFlowControl: Bool = false,
                modem: ModemStateMachine.Configuration = .init(), stateDirectory: String,
                partialTimeout: Duration = .seconds(3600), reopenInitialDelay: Duration = .milliseconds(500),
                reopenMaximumDelay: Duration = .seconds(30)) {
        self.device = device
        self.baud = baud
        self.hardwareFlowControl = hardwareFlowControl
        self.modem = modem
        self.stateDirectory = stateDirectory
        self.partialTimeout = partialTimeout
        self.reopenInitialDelay = reopenInitialDelay
        self.reopenMaximumDelay = reopenMaximumDelay
    }
}
