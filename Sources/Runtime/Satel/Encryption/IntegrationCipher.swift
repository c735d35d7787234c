import Crypto
import _CryptoExtras

/// The module's cipher (doc §8.2): CBC over full blocks with IV = E(0), then the final partial block XORed
/// with E(last ciphertext block). Ciphertext is as long as the plaintext (at least 16 bytes).
public struct IntegrationCipher: Sendable {
    private let key: SymmetricKey
    /// E(0¹⁶): the fixed initial chaining value.
    private let initialVector: [UInt8]

    public init(key: IntegrationKey) {
        self.key = key.symmetricKey
        var zero = [UInt8](repeating: 0, count: 16)
        // A 24-byte key and a 16-byte block are always valid sizes, so the block function cannot fail.
        try! AES.permute(&zero, key: key.symmetricKey)
        initialVector = zero
    }

    public func encrypt(_ plaintext: [UInt8]) -> [UInt8] {
        var plain = plaintext
        if plain.count < 16 {
            plain += [UInt8](repeating: 0, count: 16 - plain.count)
        }
        var output: [UInt8] = []
        output.reserveCapacity(plain.count)
        var chaining = initialVector
        let fullBlocks = plain.count / 16
        for block in 0..<fullBlocks {
            var input = [UInt8](repeating: 0, count: 16)
            for offset in 0..<16 {
                input[offset] = plain[block * 16 + offset] ^ chaining[offset]
            }
            permute(&input)
            output += input
            chaining = input
        }
        let tail = plain.count - fullBlocks * 16
        if tail > 0 {
            permute(&chaining)
            for offset in 0..<tail {
                output.append(plain[fullBlocks * 16 + offset] ^ chaining[offset])
            }
        }
        return output
    }

    public func decrypt(_ ciphertext: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(ciphertext.count)
        var chaining = initialVector
        let fullBlocks = ciphertext.count / 16
        for block in 0..<fullBlocks {
            let cipherBlock = Array(ciphertext[block * 16..<block * 16 + 16])
            var decrypted = cipherBlock
            inversePermute(&decrypted)
            for offset in 0..<16 {
                output.append(decrypted[offset] ^ chaining[offset])
            }
            chaining = cipherBlock
        }
        let tail = ciphertext.count - fullBlocks * 16
        if tail > 0 {
            permute(&chaining)
            for offset in 0..<tail {
                output.append(ciphertext[fullBlocks * 16 + offset] ^ chaining[offset])
            }
        }
        return output
    }

    private func permute(_ block: inout [UInt8]) {
        try! AES.permute(&block, key: key)
    }

    private func inversePermute(_ block: inout [UInt8]) {
        try! AES.inversePermute(&block, key: key)
    }
}
