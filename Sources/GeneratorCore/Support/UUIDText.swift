import Foundation

/// Whether text is a UUID in the canonical 8-4-4-4-12 hexadecimal form.
enum UUIDText {
    static func isValid(_ text: String) -> Bool { UUID(uuidString: text) != nil }
}
