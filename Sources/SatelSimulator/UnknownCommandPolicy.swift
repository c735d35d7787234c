import Satel
/// What the simulated module does with a command it does not know or a request of the wrong length.
/// Real modules are not documented here (doc §11.2); clients must time out either way.
public enum UnknownCommandPolicy: String, Hashable, Sendable, Codable {
    /// Answer `EF 08` ("other error"), as several simulators and field reports do.
    case otherError
    /// Say nothing, as the satel-integra simulator does.
    case silent
}
