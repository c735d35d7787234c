import Foundation

/// The `stam` binary built next to the test bundle, for tests that run it as a real child process.
public enum StamBinary {
    public static var path: String {
        let testBinary = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = (testBinary as NSString).deletingLastPathComponent
        while !directory.isEmpty && directory != "/" {
            let candidate = "\(directory)/stam"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = (directory as NSString).deletingLastPathComponent
        }
        return "stam"
    }
}

extension StamBinary {
    /// The project's root (the directory holding schema/), found from this source file.
    public static var projectRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }
}
