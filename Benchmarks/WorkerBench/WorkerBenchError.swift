/// The benchmark could not run as asked (a server or child did not come up, panels never connected, …).
struct WorkerBenchError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}
