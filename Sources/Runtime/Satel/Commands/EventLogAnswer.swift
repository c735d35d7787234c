/// The 0x8C answer: one record, its own index and the index that was asked for (doc §6.2).
public struct EventLogAnswer: Hashable, Sendable, Codable {
    public var record: EventRecord
    /// Pass this back in the next 0x8C request to get the record before this one.
    public var index: EventLogIndex
    /// The index of the request this answers. Unsolicited pushes do not follow this rule (doc §6.6).
    public var requestedIndex: EventLogIndex

    public init(record: EventRecord, index: EventLogIndex, requestedIndex: EventLogIndex) {
        self.record = record
        self.index = index
        self.requestedIndex = requestedIndex
    }

    public static let answerLength = 14

    init(frame: SatelFrame) throws(SatelMessageError) {
        guard frame.data.count == Self.answerLength else {
            throw SatelMessageError(code: .unexpectedLength, frame: frame, reason: "0x8C answer needs 14 bytes")
        }
        record = EventRecord(raw: Array(frame.data[0..<8]))
        index = EventLogIndex(bytes: frame.data[8..<11])
        requestedIndex = EventLogIndex(bytes: frame.data[11..<14])
    }

    var data: [UInt8] { record.raw + index.bytes + requestedIndex.bytes }
}
