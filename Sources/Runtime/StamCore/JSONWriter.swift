import Foundation

/// A value that writes its own JSON (generated for every entity): the operator API's hot path, several times
/// faster than `JSONEncoder`, which goes through generic containers and a date formatter per value. The bytes
/// equal what the API's `JSONEncoder` (sorted keys, `JSONWriter.formatDate` dates) would write; a test checks it.
public protocol JSONWritable {
    func writeJSON(to writer: inout JSONWriter)
}

/// Appends JSON to a byte array. Keys are written in the order given (the generator sorts them).
public struct JSONWriter: Sendable {
    public private(set) var bytes: [UInt8] = []
    var needsComma = false

    public init(capacity: Int = 4096) { bytes.reserveCapacity(capacity) }

    public mutating func beginObject() { separator(); bytes.append(UInt8(ascii: "{")); needsComma = false }
    public mutating func endObject() { bytes.append(UInt8(ascii: "}")); needsComma = true }
    public mutating func beginArray() { separator(); bytes.append(UInt8(ascii: "[")); needsComma = false }
    public mutating func endArray() { bytes.append(UInt8(ascii: "]")); needsComma = true }

    mutating func separator() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    /// `"key":` (the next value follows without a comma).
    public mutating func key(_ key: StaticString) {
        separator()
        bytes.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        needsComma = false
    }

    public mutating func key(_ key: String) {
        separator()
        string(key)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    public mutating func null() { separator(); bytes.append(contentsOf: Array("null".utf8)); needsComma = true }

    public mutating func value(_ value: String) { separator(); string(value); needsComma = true }
    public mutating func value(_ value: Bool) { separator(); bytes.append(contentsOf: Array((value ? "true" : "false").utf8)); needsComma = true }
    public mutating func value(_ value: Int) { separator(); bytes.append(contentsOf: Array(String(value).utf8)); needsComma = true }
    public mutating func value(_ value: Int64) { separator(); bytes.append(contentsOf: Array(String(value).utf8)); needsComma = true }
    /// Upper-case like `UUID.uuidString` (what `JSONEncoder` writes), but straight from the 16 bytes:
    /// `uuidString` formats through `snprintf`, which showed in the API's profile (a page has ~150 ids).
    public mutating func value(_ value: UUID) {
        separator()
        bytes.append(UInt8(ascii: "\""))
        withUnsafeBytes(of: value.uuid) { raw in
            for (index, byte) in raw.enumerated() {
                if index == 4 || index == 6 || index == 8 || index == 10 { bytes.append(UInt8(ascii: "-")) }
                bytes.append(Self.upperHex[Int(byte >> 4)])
                bytes.append(Self.upperHex[Int(byte & 15)])
            }
        }
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    static let upperHex: [UInt8] = Array("0123456789ABCDEF".utf8)
    public mutating func value(_ value: Date) { separator(); string(Self.formatDate(value)); needsComma = true }
    public mutating func value(_ secret: Secret) { null() }
    public mutating func value(_ value: Data) { separator(); string(value.base64EncodedString()); needsComma = true }

    /// Numbers whose text `JSONEncoder` owns (Double, Decimal) go through it, one value at a time.
    public mutating func value<Value: Encodable>(encoded value: Value) {
        separator()
        let encoded: Data? = try? Self.fallback.encode(value)
        if let encoded { bytes.append(contentsOf: encoded) } else { bytes.append(contentsOf: Array("null".utf8)) }
        needsComma = true
    }

    public mutating func value(_ value: JSONValue) {
        switch value {
        case .null: null()
        case .bool(let flag): self.value(flag)
        case .number(let number): self.value(encoded: number)
        case .string(let text): self.value(text)
        case .array(let items):
            beginArray()
            for item in items { self.value(item) }
            endArray()
        case .object(let fields):
            beginObject()
            for key in fields.keys.sorted() {
                self.key(key)
                self.value(fields[key]!)
            }
            endObject()
        }
    }

    public mutating func value(_ value: some RawRepresentable<String>) { self.value(value.rawValue) }

    public mutating func value<Value>(_ value: Value?, _ write: (inout JSONWriter, Value) -> Void) {
        if let value { write(&self, value) } else { null() }
    }

    public mutating func value(_ value: some JSONWritable) { value.writeJSON(to: &self) }

    /// A string with JSON escapes (as `JSONEncoder` writes them, `/` unescaped).
    mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [92, 34])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [92, 92])
            case 0x0A: bytes.append(contentsOf: [92, UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [92, UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [92, UInt8(ascii: "t")])
            case 0x08: bytes.append(contentsOf: [92, UInt8(ascii: "b")])
            case 0x0C: bytes.append(contentsOf: [92, UInt8(ascii: "f")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [92, UInt8(ascii: "u"), 48, 48, hex[Int(byte >> 4)], hex[Int(byte & 15)]])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    static let fallback: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// `2026-11-29T06:00:00.123Z`: UTC, milliseconds (truncated), computed without a formatter.
    public static func formatDate(_ date: Date) -> String {
        let totalMilliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var days = totalMilliseconds >= 0 ? totalMilliseconds / 86_400_000 : (totalMilliseconds - 86_399_999) / 86_400_000
        let millisecondOfDay = totalMilliseconds - days * 86_400_000
        // Howard Hinnant's civil_from_days.
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let dayOfEra = days - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthPrime = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthPrime + 2) / 5 + 1
        let month = monthPrime < 10 ? monthPrime + 3 : monthPrime - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        var text = [UInt8]()
        text.reserveCapacity(24)
        func digits(_ value: Int64, _ count: Int) {
            var divisor: Int64 = 1
            for _ in 1..<count { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                text.append(UInt8(48 + (rest / divisor) % 10))
                rest %= divisor
                divisor /= 10
            }
        }
        digits(year, 4); text.append(45); digits(month, 2); text.append(45); digits(day, 2); text.append(84)
        digits(millisecondOfDay / 3_600_000, 2); text.append(58); digits(millisecondOfDay / 60000 % 60, 2); text.append(58)
        digits(millisecondOfDay / 1000 % 60, 2); text.append(46); digits(millisecondOfDay % 1000, 3); text.append(90)
        return String(decoding: text, as: UTF8.self)
    }
}
