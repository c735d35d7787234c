import CRabbitMQ
import Foundation
import StamCore

/// C memory for one rabbitmq-c call: copies of strings and table entries that must stay valid until the
/// call returns, freed together when the arena goes away.
final class AMQPArena {
    private var allocations: [UnsafeMutableRawPointer] = []

    deinit {
        for pointer in allocations { free(pointer) }
    }

    func bytes(_ string: String) -> amqp_bytes_t {
        let utf8 = Array(string.utf8)
        guard let pointer = malloc(max(1, utf8.count)) else { fatalError("out of memory") }
        allocations.append(pointer)
        utf8.withUnsafeBytes { pointer.copyMemory(from: $0.baseAddress!, byteCount: utf8.count) }
        return amqp_bytes_t(len: utf8.count, bytes: pointer)
    }

    func table(_ entries: [(key: String, value: MessagingTopology.ArgumentValue)]) -> amqp_table_t {
        guard !entries.isEmpty else { return amqp_empty_table }
        let size = MemoryLayout<amqp_table_entry_t>.stride * entries.count
        guard let raw = malloc(size) else { fatalError("out of memory") }
        allocations.append(raw)
        let pointer = raw.bindMemory(to: amqp_table_entry_t.self, capacity: entries.count)
        for (index, entry) in entries.enumerated() {
            var value = amqp_field_value_t()
            switch entry.value {
            case .string(let text):
                value.kind = UInt8(AMQP_FIELD_KIND_UTF8.rawValue)
                value.value.bytes = bytes(text)
            case .integer(let number):
                value.kind = UInt8(AMQP_FIELD_KIND_I64.rawValue)
                value.value.i64 = Int64(number)
            }
            pointer[index] = amqp_table_entry_t(key: bytes(entry.key), value: value)
        }
        return amqp_table_t(num_entries: Int32(entries.count), entries: pointer)
    }

    static func string(_ bytes: amqp_bytes_t) -> String {
        guard let pointer = bytes.bytes, bytes.len > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: pointer, count: bytes.len), as: UTF8.self)
    }
}
