import Foundation
import NIOSSL
import PostgresNIO

/// TLS to PostgreSQL (or PgBouncer) as libpq spells it in a URL: `?sslmode=verify-full&sslrootcert=<CA file>`.
/// - `disable` (the default): plain TCP, for loopback and the dev stack;
/// - `require`: encrypted, the server not checked (libpq's meaning; only against a passive eavesdropper);
/// - `verify-ca`: encrypted, the server's certificate signed by the CA in `sslrootcert`;
/// - `verify-full`: as verify-ca, and the certificate names the host the URL names (what the deployment uses:
///   nobody on the network can stand in for the database).
/// The context is built once, when the configuration is made, so a missing or unreadable CA file stops the
/// process at start with its path instead of failing every connection later.
public struct PostgresTLS: Sendable, Hashable {
    public enum Mode: String, Sendable, CaseIterable {
        case disable, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public let mode: Mode
    /// The CA file (`sslrootcert`), required by the verifying modes.
    public let rootCertificate: String?
    /// The pool takes the configuration, a single connection the context made from it.
    let configuration: TLSConfiguration?
    let context: NIOSSLContext?

    public static let disabled = PostgresTLS(mode: .disable, rootCertificate: nil, configuration: nil, context: nil)

    private init(mode: Mode, rootCertificate: String?, configuration: TLSConfiguration?, context: NIOSSLContext?) {
        self.mode = mode
        self.rootCertificate = rootCertificate
        self.configuration = configuration
        self.context = context
    }

    public struct Invalid: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    public init(mode: Mode, rootCertificate: String?) throws {
        guard mode != .disable else {
            self = .disabled
            return
        }
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch mode {
        case .disable, .require:
            configuration.certificateVerification = .none
        case .verifyCA, .verifyFull:
            guard let rootCertificate else {
                throw Invalid(description: "sslmode=\(mode.rawValue) needs sslrootcert=<the CA file> to verify the server against")
            }
            do {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(rootCertificate))
            } catch {
                throw Invalid(description: "cannot read the CA file '\(rootCertificate)' (sslrootcert): \(error)")
            }
            configuration.certificateVerification = mode == .verifyFull ? .fullVerification : .noHostnameVerification
        }
        self.init(mode: mode, rootCertificate: rootCertificate, configuration: configuration,
                  context: try NIOSSLContext(configuration: configuration))
    }

    /// postgres-nio's setting: `require`, never `prefer`, so a server that does not speak TLS is an error.
    var connectionTLS: PostgresConnection.Configuration.TLS {
        context.map { .require($0) } ?? .disable
    }

    var clientTLS: PostgresClient.Configuration.TLS {
        configuration.map { .require($0) } ?? .disable
    }

    public static func == (left: PostgresTLS, right: PostgresTLS) -> Bool {
        left.mode == right.mode && left.rootCertificate == right.rootCertificate
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(mode)
        hasher.combine(rootCertificate)
    }
}
