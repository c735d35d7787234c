/// Hex rendering of bytes for logs, errors and test names.
public enum SatelHex {
    public static func string(_ byte: UInt8) -> String {
        let digits: [Character] = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }

    public static func string<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        bytes.map { string($0) }.joined(separator: " ")
    }

    /// Parses `"FE FE 00 D7"`, `"fefe00d7"` or with `×n` repeat suffixes like `"FF×6"`, for test vectors.
    public static func bytes(_ text: String) -> [UInt8]? {
        var result: [UInt8] = []
        for token in text.split(whereSeparator: { $0 == " " || $0 == "," }) {
            let parts = token.split(separator: "×")
            guard let hexPart = parts.first, hexPart.count % 2 == 0 else { return nil }
            var chunk: [UInt8] = []
            var index = hexPart.startIndex
            while index < hexPart.endIndex {
                let next = hexPart.index(index, offsetBy: 2)
                guard let byte = UInt8(hexPart[index..<next], radix: 16) else { return nil }
                chunk.append(byte)
                index = next
            }
            let repeats = parts.count > 1 ? Int(parts[1]) ?? 1 : 1
            for _ in 0..<repeats {
                result.append(contentsOf: chunk)
            }
        }
        return result
    }
}
