/// The benchmark could not run as asked (PostgreSQL or the receiver did not come up, the receiver exited, ...).
struct DC09BenchError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}
