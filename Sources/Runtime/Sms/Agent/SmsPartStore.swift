import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Parts of concatenated messages that are not complete yet, kept in files so they can be deleted from the
/// modem (whose storage is small: a SIM holds 10-50 messages) without being lost on a crash.
///
/// A file store and not PostgreSQL: the agent must keep working with only the modem and the broker (the
/// database may be down while alarms arrive), and it is the single owner of its modem, so nothing else
/// needs to see these parts. Each part is written to a temporary file, fsync'd, renamed into place and the
/// directory fsync'd: once `save` returns, the part survives a crash or a power cut, and only then is it
/// deleted from the modem.
public final class SmsPartStore: Sendable {
    public struct Part: Codable, Hashable, Sendable {
        public var group: String
        public var sequence: Int
        public var total: Int
        public var pdu: String
        public var storedAt: Date
    }

    public struct StoreError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    public let directory: String

    public init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// The group of a part: same sender, same reference (and reference width), same part count.
    public static func groupKey(sender: SmsAddress, concatenation: SmsConcatenation) -> String {
        let identity = "\(sender.kind.rawValue)|\(sender.value)|\(concatenation.sixteenBitReference ? 16 : 8)|\(concatenation.reference)|\(concatenation.total)"
        return SHA256.hash(data: Array(identity.utf8)).prefix(12).map { String(format: "%02x", $0) }.joined()
    }

    public func save(_ part: Part) throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .millisecondsSince1970
        let data = try encoder.encode(part)
        let name = "\(part.group)-\(part.sequence).json"
        let temporary = "\(directory)/.\(name).tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw StoreError(description: "create \(temporary): \(String(cString: strerror(errno)))") }
        let written = data.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor)
        close(descriptor)
        guard written == data.count, synced == 0 else {
            unlink(temporary)
            throw StoreError(description: "write \(temporary): \(String(cString: strerror(errno)))")
        }
        guard rename(temporary, "\(directory)/\(name)") == 0 else {
            throw StoreError(description: "rename \(temporary): \(String(cString: strerror(errno)))")
        }
        try syncDirectory()
    }

    public func load() throws -> [Part] {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }
            .sorted()
            .compactMap { name in
                guard let data = FileManager.default.contents(atPath: "\(directory)/\(name)") else { return nil }
                return try decoder.decode(Part.self, from: data)
            }
    }

    public func remove(group: String) throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) where name.hasPrefix("\(group)-") {
            unlink("\(directory)/\(name)")
        }
        try syncDirectory()
    }

    private func syncDirectory() throws {
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw StoreError(description: "open \(directory): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw StoreError(description: "fsync \(directory): \(String(cString: strerror(errno)))") }
    }
}
