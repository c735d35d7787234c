import Satel
/// The panel's event log: a ring buffer whose slot numbers are the 24-bit indices handed to clients.
///
/// Reading `FFFFFF` gives the newest record; reading an index gives the record before it; past the oldest
/// record comes an empty one (Z = 0), which is how clients know the log ended (doc §6.1, §6.6).
public struct EventLogRing: Hashable, Sendable {
    public let capacity: Int
    private var slots: [EventRecord]
    /// Where the next record goes.
    private var nextSlot = 0
    public private(set) var count = 0

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
        slots = [EventRecord](repeating: .empty, count: self.capacity)
    }

    /// Appends a record, overwriting the oldest when full; returns its index.
    @discardableResult
    public mutating func append(_ record: EventRecord) -> EventLogIndex {
        let slot = nextSlot
        slots[slot] = record
        nextSlot = (nextSlot + 1) % capacity
        count = min(count + 1, capacity)
        return EventLogIndex(rawValue: UInt32(slot))
    }

    /// Sets station 1's or 2's monitoring status of every stored record to "sent" (01).
    public mutating func markReported(toStation station: Int) {
        let shift: UInt8 = station == 2 ? 2 : 0
        for slot in slots.indices where slots[slot].isPresent {
            var raw = slots[slot].raw
            raw[0] = raw[0] & ~(0x03 << shift) | (EventRecord.MonitoringStatus.sent.rawValue << shift)
            slots[slot] = EventRecord(raw: raw)
        }
    }

    public var newestIndex: EventLogIndex? {
        count == 0 ? nil : EventLogIndex(rawValue: UInt32((nextSlot - 1 + capacity) % capacity))
    }

    /// The 0x8C answer for `requested`.
    public func answer(for requested: EventLogIndex) -> EventLogAnswer {
        if requested == .newestGrade23 {
            // No Grade 2/3 log is simulated: its end marker is a record whose byte 0 is 0.
            return EventLogAnswer(record: .empty, index: requested, requestedIndex: requested)
        }
        if requested == .newest {
            guard let newest = newestIndex else {
                return EventLogAnswer(record: .empty, index: requested, requestedIndex: requested)
            }
            return EventLogAnswer(record: slots[Int(newest.rawValue)], index: newest, requestedIndex: requested)
        }
        let slot = Int(requested.rawValue)
        guard slot < capacity else {
            return EventLogAnswer(record: .empty, index: requested, requestedIndex: requested)
        }
        let previous = (slot - 1 + capacity) % capacity
        // Age 0 is the newest record; a slot is in the log when its age is below `count`.
        let age = (nextSlot - 1 - slot + 2 * capacity) % capacity
        guard age + 1 < count else {
            return EventLogAnswer(record: .empty, index: EventLogIndex(rawValue: UInt32(previous)), requestedIndex: requested)
        }
        return EventLogAnswer(
            record: slots[previous], index: EventLogIndex(rawValue: UInt32(previous)), requestedIndex: requested)
    }

    /// The records newest first, for tests and the control API.
    public var newestFirst: [EventRecord] {
        (0..<count).map { slots[(nextSlot - 1 - $0 + 2 * capacity) % capacity] }
    }
}
