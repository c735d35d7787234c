/// One secret file of the deployment as `schema/deployment.yaml` declares it: where it lives (relative to
/// the project root) and how `stam secrets init` makes it. Generated code lists them (`StamSecrets.all`).
public struct SecretSpecification: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// 32 random letters and digits.
        case password
        /// A JSON object mapping each of `names` to the password in the secret `of` (sorted keys, e.g.
        /// `{"redis://redis:6379":"..."}`): redis_exporter's password file is such a map, not a bare password.
        case passwordMap(of: String, names: [String])
        /// 32 random bytes, base64.
        case randomKey
        /// RSA 2048, PKCS#8 PEM.
        case rsaPrivateKey
        /// The public key (PEM) of the named private key secret.
        case rsaPublicKey(of: String)
        /// A self-signed CA certificate (PEM); its key signs the certificates that name it and is not kept.
        case tlsCA
        /// A server certificate (PEM) for `names`, with its key in the secret `key`, signed by the CA
        /// secret `ca` (self-signed without one).
        case tlsCertificate(key: String, ca: String?, names: [String])
        /// The key (PKCS#8 PEM) of a certificate; written together with it.
        case tlsPrivateKey
        /// Supplied by the operator; created empty.
        case provided
    }

    public var name: String
    /// Relative to the project root (`secrets/postgres_password`, `certs/server.key`).
    public var file: String
    public var kind: Kind

    public init(name: String, file: String, kind: Kind) {
        self.name = name
        self.file = file
        self.kind = kind
    }
}
