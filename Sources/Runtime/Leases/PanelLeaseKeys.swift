/// The Redis key names of the lease protocol, under an optional prefix (tests isolate themselves with one;
/// production uses none).
public struct PanelLeaseKeys: Sendable, Hashable {
    public var prefix: String

    public init(prefix: String = "") {
        self.prefix = prefix
    }

    /// `lock:panel:<id>`: the owner token of the worker that holds the panel, with the lease TTL.
    public func lock(_ panelID: String) -> String { "\(prefix)lock:panel:\(panelID)" }
    /// `fence:panel:<id>`: the fencing counter; INCR on every grant, never reset.
    public func fence(_ panelID: String) -> String { "\(prefix)fence:panel:\(panelID)" }
    /// `worker:<id>`: a live worker's heartbeat, with a TTL.
    public func worker(_ workerID: String) -> String { "\(prefix)worker:\(workerID)" }
    public var workerPattern: String { "\(prefix.replacingOccurrences(of: "*", with: "\\*"))worker:*" }
}
