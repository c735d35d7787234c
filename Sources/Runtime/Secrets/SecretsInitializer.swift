import _CryptoExtras
import Crypto
import Foundation
import StamCore
import X509

/// Creates the secret files of the deployment (`stam secrets init`): random passwords and keys, JSON maps
/// of a password (redis_exporter's password file), the JWT RSA key pair, the internal CA and the
/// certificates it signs, and empty files for what the operator supplies. Every file is created with mode
/// 0600 and never overwritten: a run that would replace a file fails before writing anything, unless asked
/// to fill in only the missing ones.
public struct SecretsInitializer: Sendable {
    /// Who owns the files: the user the stam images run as, so their containers can read the secrets
    /// Docker bind-mounts with the host's ownership and mode.
    public struct Ownership: Sendable, Hashable {
        public var uid: UInt32
        public var gid: UInt32

        public init(uid: UInt32, gid: UInt32) {
            self.uid = uid
            self.gid = gid
        }

        /// `10001:10001`.
        public init?(_ text: String) {
            let parts = text.split(separator: ":")
            guard parts.count == 2, let uid = UInt32(parts[0]), let gid = UInt32(parts[1]) else { return nil }
            self.init(uid: uid, gid: gid)
        }

        public static let stamImages = Ownership(uid: 10001, gid: 10001)
    }

    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    public struct Outcome: Sendable, Hashable {
        /// Files written by this run, relative to the root, in the order they were written.
        public var created: [String] = []
        /// Files that existed and were left alone.
        public var kept: [String] = []
    }

    public let specifications: [SecretSpecification]

    public init(specifications: [SecretSpecification]) {
        self.specifications = specifications
    }

    /// The files (relative to `root`) that already exist.
    public func existingFiles(root: String) -> [String] {
        specifications.map(\.file).filter { FileManager.default.fileExists(atPath: "\(root)/\($0)") }
    }

    /// Creates the secret files under `root`.
    /// - Parameters:
    ///   - owner: chown every new file to this user (needs root); nil leaves them to the caller.
    ///   - onlyMissing: create the missing files and keep the others (public keys and certificates are
    ///     derived from the keys that exist); otherwise refuse when any file exists.
    public func run(root: String, owner: Ownership?, onlyMissing: Bool, now: Date = Date()) throws -> Outcome {
        let existing = existingFiles(root: root)
        if !onlyMissing && !existing.isEmpty {
            throw Failure(description: "refusing to overwrite existing secret files: \(existing.joined(separator: ", ")); "
                + "remove them first, or pass --only-missing to create just the missing ones")
        }
        var run = Run(root: root, owner: owner, now: now, specifications: specifications)
        for specification in specifications { try run.ensure(specification.name) }
        return run.outcome
    }

    /// One run: what was made so far, so derived secrets (public keys, certificates) find their inputs.
    struct Run {
        let root: String
        let owner: Ownership?
        let now: Date
        let specifications: [SecretSpecification]
        var outcome = Outcome()
        var contents: [String: String] = [:]
        var caKeys: [String: P256.Signing.PrivateKey] = [:]
        var visiting: Set<String> = []

        func specification(_ name: String) throws -> SecretSpecification {
            guard let found = specifications.first(where: { $0.name == name }) else {
                throw Failure(description: "secret '\(name)' is referred to but not declared")
            }
            return found
        }

        func path(_ specification: SecretSpecification) -> String { "\(root)/\(specification.file)" }

        /// Makes sure a secret exists (creating it and what it needs), and returns its contents.
        @discardableResult
        mutating func ensure(_ name: String) throws -> String {
            if let known = contents[name] { return known }
            let specification = try specification(name)
            if let data = FileManager.default.contents(atPath: path(specification)) {
                let text = String(decoding: data, as: UTF8.self)
                contents[name] = text
                outcome.kept.append(specification.file)
                return text
            }
            guard visiting.insert(name).inserted else { throw Failure(description: "secret '\(name)' depends on itself") }
            defer { visiting.remove(name) }
            let text: String
            switch specification.kind {
            case .password:
                text = Self.password()
            case .passwordMap(let of, let names):
                let password = try ensure(of).trimmingCharacters(in: .whitespacesAndNewlines)
                guard !password.isEmpty else {
                    throw Failure(description: "cannot write \(specification.file): the password in secret '\(of)' is empty")
                }
                text = try Self.passwordMap(names: names, password: password)
            case .randomKey:
                text = Self.randomBytes(32).base64EncodedString()
            case .provided:
                text = ""
            case .rsaPrivateKey:
                text = try _RSA.Signing.PrivateKey(keySize: .bits2048).pkcs8PEMRepresentation + "\n"
            case .rsaPublicKey(let of):
                text = try _RSA.Signing.PrivateKey(pemRepresentation: try ensure(of)).publicKey.pemRepresentation + "\n"
            case .tlsCA:
                let key = P256.Signing.PrivateKey()
                let subject = try DistinguishedName {
                    OrganizationName("stam")
                    CommonName("stam internal CA (\(name))")
                }
                let certificate = try Certificate(
                    version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
                    notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(10 * 365 * 86400),
                    issuer: subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
                    extensions: try Certificate.Extensions {
                        Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                        Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                    },
                    issuerPrivateKey: .init(key))
                caKeys[name] = key
                text = try certificate.serializeAsPEM().pemString + "\n"
            case .tlsPrivateKey:
                // Written with the certificate that uses it; a key no certificate names is just a key.
                if let certificate = specifications.first(where: {
                    if case .tlsCertificate(let key, _, _) = $0.kind { return key == name }
                    return false
                }) {
                    try ensure(certificate.name)
                    if let made = contents[name] { return made }
                    throw Failure(description: "\(specification.file) is missing but its certificate \(certificate.file) exists; "
                        + "remove the certificate too, then run again")
                }
                text = P256.Signing.PrivateKey().pemRepresentation + "\n"
            case .tlsCertificate(let keyName, let caName, let names):
                let keySpecification = try self.specification(keyName)
                let key: P256.Signing.PrivateKey
                if let existing = FileManager.default.contents(atPath: path(keySpecification)) {
                    key = try P256.Signing.PrivateKey(pemRepresentation: String(decoding: existing, as: UTF8.self))
                } else {
                    key = P256.Signing.PrivateKey()
                    let keyText = key.pemRepresentation + "\n"
                    try write(keySpecification, keyText)
                    contents[keyName] = keyText
                }
                let subject = try DistinguishedName {
                    OrganizationName("stam")
                    CommonName(names[0])
                }
                var issuer = subject
                var signingKey = key
                if let caName {
                    let caText = try ensure(caName)
                    guard let caKey = caKeys[caName] else {
                        throw Failure(description: "cannot issue '\(name)': its CA '\(caName)' exists but the CA key is not kept; "
                            + "remove the CA and every certificate it signed, then run again")
                    }
                    issuer = try Certificate(pemEncoded: caText).subject
                    signingKey = caKey
                }
                let certificate = try Certificate(
                    version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
                    notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(825 * 86400),
                    issuer: issuer, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
                    extensions: try Certificate.Extensions {
                        Critical(BasicConstraints.notCertificateAuthority)
                        Critical(KeyUsage(digitalSignature: true))
                        try ExtendedKeyUsage([.serverAuth, .clientAuth])
                        SubjectAlternativeNames(names.map { GeneralName.dnsName($0) })
                    },
                    issuerPrivateKey: .init(signingKey))
                text = try certificate.serializeAsPEM().pemString + "\n"
            }
            try write(specification, text)
            contents[name] = text
            return text
        }

        /// Creates the file with mode 0600, failing if it exists (O_EXCL), then hands it to the owner.
        mutating func write(_ specification: SecretSpecification, _ text: String) throws {
            let file = path(specification)
            let directory = (file as NSString).deletingLastPathComponent
            if !FileManager.default.fileExists(atPath: directory) {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
            }
            let descriptor = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else {
                throw Failure(description: "cannot create \(specification.file): \(String(cString: strerror(errno)))")
            }
            defer { close(descriptor) }
            if let owner, fchown(descriptor, owner.uid, owner.gid) != 0 {
                throw Failure(description: "cannot give \(specification.file) to \(owner.uid):\(owner.gid): \(String(cString: strerror(errno)))")
            }
            let bytes = Array(text.utf8)
            var written = 0
            while written < bytes.count {
                let result = bytes[written...].withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
                guard result > 0 else { throw Failure(description: "cannot write \(specification.file): \(String(cString: strerror(errno)))") }
                written += result
            }
            guard fsync(descriptor) == 0 else { throw Failure(description: "cannot sync \(specification.file)") }
            outcome.created.append(specification.file)
        }

        static func randomBytes(_ count: Int) -> Data {
            var generator = SystemRandomNumberGenerator()
            return Data((0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
        }

        /// `{"<name>":"<password>",...}` with sorted keys and a trailing newline (redis_exporter's
        /// `--redis.password-file` reads such a map of Redis URIs to passwords).
        static func passwordMap(names: [String], password: String) throws -> String {
            let object = Dictionary(names.map { ($0, password) }, uniquingKeysWith: { first, _ in first })
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            return String(decoding: data, as: UTF8.self) + "\n"
        }

        /// 32 letters and digits, uniformly chosen (about 190 bits).
        static func password() -> String {
            let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
            var generator = SystemRandomNumberGenerator()
            return String((0..<32).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
        }
    }
}
