/// What the simulated module does with a monitoring request (0x7F with 12 or 14 bytes, doc §3.7): the ways modules
/// in the field answer it, so the client's fall-backs can be tested.
public enum MonitoringPolicy: String, Hashable, Sendable, Codable, CaseIterable {
    /// `EF 00`, every selected state once, then each change as it happens (ETHM-1 Plus 2.04 and later).
    case serve
    /// `EF 08` ("other error"), as a module that does not know the request may answer.
    case refuse
    /// Its new-data list, as if it were a poll (firmware that reads only the first bytes of the request).
    case answerAsPoll = "answer-as-poll"
    /// No answer at all (ETHM-1 and ETHM-1 Plus 2.00 as reported in HA #10616); the other requests are answered.
    case ignore
    /// `EF 00` and the first dump, then no pushes while the "new data" flags keep being set: a module that stopped
    /// pushing, which the client must notice by itself.
    case stopPushing = "stop-pushing"
}
