import Foundation

/// A value that writes its own JSON (generated for every entity): the operator API's hot path, several times
/// faster than `JSONEncoder`, which goes through generic containers and a date formatter per value. The bytes
/// equal what the API's `JSONEncoder` (sorted keys, `JSONWriter.formatDate` dates) would write; a test checks it.
public protocol JSONWritable {
    func writeJSON(to writer: inout JSONWriter)
}

/// Appends JSON to a byte array. Keys are written in the order given (the generator sorts them).
/// The small writers are `@inlinable` so the generated `writeJSON(to:)` of each entity compiles into straight
/// appends (the API's list route writes ~16 fields for each of 50 rows per request).
public struct JSONWriter: Sendable {
    @usableFromInline var storage: [UInt8] = []
    public var bytes: [UInt8] { storage }
    @usableFromInline var needsComma = false

    public init(capacity: Int = 4096) { storage.reserveCapacity(capacity) }

    @inlinable public mutating func beginObject() { separator(); storage.append(UInt8(ascii: "{")); needsComma = false }
    @inlinable public mutating func endObject() { storage.append(UInt8(ascii: "}")); needsComma = true }
    @inlinable public mutating func beginArray() { separator(); storage.append(UInt8(ascii: "[")); needsComma = false }
    @inlinable public mutating func endArray() { storage.append(UInt8(ascii: "]")); needsComma = true }

    @inlinable mutating func separator() {
        if needsComma { storage.append(UInt8(ascii: ",")) }
    }

    /// `"key":` (the next value follows without a comma). A literal key is written as it is: the generator's
    /// keys are schema field names, which need no escaping.
    @inlinable public mutating func key(_ key: StaticString) {
        separator()
        storage.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { storage.append(contentsOf: $0) }
        storage.append(UInt8(ascii: "\""))
        storage.append(UInt8(ascii: ":"))
        needsComma = false
    }

    /// A key only known at run time (a JSON object's), escaped.
    public mutating func key(escaping key: String) {
        separator()
        string(key)
        storage.append(UInt8(ascii: ":"))
        needsComma = false
    }

    @inlinable public mutating func null() { separator(); append(ascii: "null"); needsComma = true }

    @inlinable public mutating func value(_ value: String) { separator(); string(value); needsComma = true }
    @inlinable public mutating func value(_ value: Bool) { separator(); append(ascii: value ? "true" : "false"); needsComma = true }
    @inlinable public mutating func value(_ value: Int) { self.value(Int64(value)) }
    public mutating func value(_ value: Int64) {
        separator()
        if value < 0 { storage.append(UInt8(ascii: "-")) }
        // Magnitude as UInt64, so Int64.min has one too.
        var rest = value.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                      UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[19 - count] = UInt8(48 + rest % 10)
                rest /= 10
                count += 1
            } while rest > 0
            storage.append(contentsOf: buffer[(20 - count)...])
        }
        needsComma = true
    }

    /// Upper-case like `UUID.uuidString` (what `JSONEncoder` writes), but straight from the 16 bytes:
    /// `uuidString` formats through `snprintf`, which showed in the API's profile (a page has ~150 ids).
    public mutating func value(_ value: UUID) {
        separator()
        storage.append(UInt8(ascii: "\""))
        withUnsafeBytes(of: value.uuid) { raw in
            for index in 0..<16 {
                if index == 4 || index == 6 || index == 8 || index == 10 { storage.append(UInt8(ascii: "-")) }
                let byte = raw[index]
                storage.append(Self.hexDigit(byte >> 4, upper: true))
                storage.append(Self.hexDigit(byte & 15, upper: true))
            }
        }
        storage.append(UInt8(ascii: "\""))
        needsComma = true
    }

    @inlinable static func hexDigit(_ nibble: UInt8, upper: Bool) -> UInt8 {
        nibble < 10 ? 48 + nibble : (upper ? 55 : 87) + nibble
    }

    @inlinable mutating func append(ascii text: StaticString) {
        text.withUTF8Buffer { storage.append(contentsOf: $0) }
    }

    /// The same text as `formatDate`, appended in place (no intermediate String, no escaping scan).
    public mutating func value(_ value: Date) {
        separator()
        storage.append(UInt8(ascii: "\""))
        Self.appendDate(value, to: &storage)
        storage.append(UInt8(ascii: "\""))
        needsComma = true
    }

    public mutating func value(_ secret: Secret) { null() }
    public mutating func value(_ value: Data) { separator(); string(value.base64EncodedString()); needsComma = true }

    /// Numbers whose text `JSONEncoder` owns (Double, Decimal) go through it, one value at a time.
    public mutating func value<Value: Encodable>(encoded value: Value) {
        separator()
        let encoded: Data? = try? Self.fallback.encode(value)
        if let encoded { storage.append(contentsOf: encoded) } else { storage.append(contentsOf: Array("null".utf8)) }
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
                self.key(escaping: key)
                self.value(fields[key]!)
            }
            endObject()
        }
    }

    @inlinable public mutating func value(_ value: some RawRepresentable<String>) { self.value(value.rawValue) }

    public mutating func value<Value>(_ value: Value?, _ write: (inout JSONWriter, Value) -> Void) {
        if let value { write(&self, value) } else { null() }
    }

    @inlinable public mutating func value(_ value: some JSONWritable) { value.writeJSON(to: &self) }

    /// A string with JSON escapes (as `JSONEncoder` writes them, `/` unescaped). Text without anything to
    /// escape (ids, enum values, most titles) is appended in one copy.
    @usableFromInline mutating func string(_ text: String) {
        storage.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            if !utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
                storage.append(contentsOf: utf8)
                return
            }
            for byte in utf8 {
                switch byte {
                case UInt8(ascii: "\""): storage.append(92); storage.append(34)
                case UInt8(ascii: "\\"): storage.append(92); storage.append(92)
                case 0x0A: storage.append(92); storage.append(UInt8(ascii: "n"))
                case 0x0D: storage.append(92); storage.append(UInt8(ascii: "r"))
                case 0x09: storage.append(92); storage.append(UInt8(ascii: "t"))
                case 0x08: storage.append(92); storage.append(UInt8(ascii: "b"))
                case 0x0C: storage.append(92); storage.append(UInt8(ascii: "f"))
                case 0..<0x20:
                    storage.append(contentsOf: [92, UInt8(ascii: "u"), 48, 48, Self.hexDigit(byte >> 4, upper: false), Self.hexDigit(byte & 15, upper: false)])
                default: storage.append(byte)
                }
            }
        }
        storage.append(UInt8(ascii: "\""))
    }

    static let fallback: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// `2026-11-29T06:00:00.123Z`: UTC, milliseconds (truncated), computed without a formatter.
    public static func formatDate(_ date: Date) -> String {
        var text = [UInt8]()
        text.reserveCapacity(24)
        appendDate(date, to: &text)
        return String(decoding: text, as: UTF8.self)
    }

    static func appendDate(_ date: Date, to text: inout [UInt8]) {
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
    }
}
