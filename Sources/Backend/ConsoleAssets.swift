import APISupport
import Crypto
import Foundation
import HTTPTypes
import Hummingbird

/// The operator web console: the plain files in `Sources/Backend/Console` (index.html, console.css,
/// console.js, favicon.svg), served at `/` without authentication (the page holds no data; every API call
/// it makes carries the operator's token).
///
/// SwiftPM embeds the files in the binary (`.embedInCode` in Package.swift, read here as
/// `PackageResources`) rather than shipping a resource bundle: the images copy only the `stam` executable
/// (deploy/generated/docker), and a backend must not start without its console. The files stay plain text
/// in the repository; there is no build step.
struct ConsoleAssets: Sendable {
    struct Asset: Sendable {
        var contentType: String
        var body: ByteBuffer
        var etag: String

        init(_ bytes: [UInt8], contentType: String) {
            self.contentType = contentType
            body = ByteBuffer(bytes: bytes)
            // From the content, so every backend behind nginx answers the same tag for the same file.
            etag = "\"" + SHA256.hash(data: bytes).prefix(12).map { String(format: "%02x", $0) }.joined() + "\""
        }
    }

    /// Nothing unless named: scripts, styles and images only from the console's own origin, connections only back
    /// to it (CSP 3's `'self'` covers the same origin's `ws:`/`wss:`, so the live feed cannot be pointed at another
    /// host), no plugins, no `<base>` rewriting, forms only to itself, and no page of another site may frame it
    /// (clickjacking an arm button). It has no inline script or style, so nothing needs `'unsafe-inline'`.
    static let contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        + "base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"

    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
    static let frameOptions = HTTPField.Name("X-Frame-Options")!

    static let assets: [String: Asset] = [
        "/": Asset(PackageResources.index_html, contentType: "text/html; charset=utf-8"),
        "/console.css": Asset(PackageResources.console_css, contentType: "text/css; charset=utf-8"),
        "/console.js": Asset(PackageResources.console_js, contentType: "text/javascript; charset=utf-8"),
        "/favicon.svg": Asset(PackageResources.favicon_svg, contentType: "image/svg+xml"),
    ]

    /// One route per file; any other path is the router's 404.
    static func register(on router: Router<StamRequestContext>) {
        for (path, asset) in assets.sorted(by: { $0.key < $1.key }) {
            router.get(RouterPath(path)) { request, _ in response(for: asset, request: request) }
        }
    }

    /// `no-cache` with an ETag: browsers keep the files but ask every time (a cheap 304), so operators get a
    /// new console right after a deploy; the URLs carry no version that a longer lifetime would need.
    static func response(for asset: Asset, request: Request) -> Response {
        var headers: HTTPFields = [
            .contentType: asset.contentType,
            .cacheControl: "no-cache",
            .eTag: asset.etag,
            .contentSecurityPolicy: contentSecurityPolicy,
            .xContentTypeOptions: "nosniff",
            Self.referrerPolicy: "no-referrer",
            // Arm and disarm buttons must not be clickable through someone else's frame.
            Self.frameOptions: "DENY",
        ]
        if let tags = request.headers[.ifNoneMatch], tags.split(separator: ",").contains(where: {
            $0.trimmingCharacters(in: .whitespaces) == asset.etag
        }) {
            headers[.contentType] = nil
            return Response(status: .notModified, headers: headers)
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: asset.body))
    }
}
