// swift-tools-version:6.1
// The stam package: the stamgen generator, the generated code, the hand-written runtime and the one service
// binary. Layout (docs/ARCHITECTURE.md): production runtime modules in `Sources/Runtime/<name>`, application
// modules on top of the generated code in `Sources/App/<name>`, everything else at SwiftPM's default path
// (`Sources/<name>`, `Tests/<name>`): the generator, the generated code, the services, and the development
// tools the services never link (`DevStack`, `SatelSimulator`, `SmsSimulator`). Benchmarks and the fuzzer live in
// `Benchmarks/` and are part of the package only when asked (`STAM_BENCHMARKS=1`: `make bench`, `make fuzz`).
// Tools version 6.1: every target compiles in the Swift 6 language mode without a setting of its own.
import Foundation
import PackageDescription

/// The products of the dependencies, each named once.
extension Target.Dependency {
    static let argumentParser: Self = .product(name: "ArgumentParser", package: "swift-argument-parser")
    static let crypto: Self = .product(name: "Crypto", package: "swift-crypto")
    static let cryptoExtras: Self = .product(name: "_CryptoExtras", package: "swift-crypto")
    static let hummingbird: Self = .product(name: "Hummingbird", package: "hummingbird")
    static let hummingbirdBcrypt: Self = .product(name: "HummingbirdBcrypt", package: "hummingbird-auth")
    static let hummingbirdTesting: Self = .product(name: "HummingbirdTesting", package: "hummingbird")
    static let hummingbirdWebSocket: Self = .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket")
    static let hummingbirdWSClient: Self = .product(name: "HummingbirdWSClient", package: "hummingbird-websocket")
    static let jwtKit: Self = .product(name: "JWTKit", package: "jwt-kit")
    static let logging: Self = .product(name: "Logging", package: "swift-log")
    static let mustache: Self = .product(name: "Mustache", package: "swift-mustache")
    static let nioConcurrencyHelpers: Self = .product(name: "NIOConcurrencyHelpers", package: "swift-nio")
    static let nioCore: Self = .product(name: "NIOCore", package: "swift-nio")
    static let hummingbirdCore: Self = .product(name: "HummingbirdCore", package: "hummingbird")
    static let nioHTTP1: Self = .product(name: "NIOHTTP1", package: "swift-nio")
    static let nioEmbedded: Self = .product(name: "NIOEmbedded", package: "swift-nio")
    static let nioPosix: Self = .product(name: "NIOPosix", package: "swift-nio")
    static let nioSSL: Self = .product(name: "NIOSSL", package: "swift-nio-ssl")
    static let postgresNIO: Self = .product(name: "PostgresNIO", package: "postgres-nio")
    static let prometheus: Self = .product(name: "Prometheus", package: "swift-prometheus")
    static let serviceLifecycle: Self = .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
    static let x509: Self = .product(name: "X509", package: "swift-certificates")
    static let yams: Self = "Yams"
}

/// A production runtime module, `Sources/Runtime/<name>`.
func runtime(_ name: String, _ dependencies: [Target.Dependency], exclude: [String] = []) -> Target {
    .target(name: name, dependencies: dependencies, path: "Sources/Runtime/\(name)", exclude: exclude)
}

/// An application module on top of the generated code, `Sources/App/<name>`.
func app(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
    .target(name: name, dependencies: dependencies, path: "Sources/App/\(name)")
}

/// A benchmark or fuzzer, `Benchmarks/<name>`.
func benchmark(_ name: String, _ dependencies: [Target.Dependency], library: Bool = false) -> Target {
    library ? .target(name: name, dependencies: dependencies, path: "Benchmarks/\(name)")
        : .executableTarget(name: name, dependencies: dependencies, path: "Benchmarks/\(name)")
}

let targets: [Target] = [
    // The generator: parse -> validated model -> renderers. No server dependency, so `stamgen` builds fast.
    .target(name: "GeneratorCore", dependencies: [.yams, "MigrationSupport", "StamCore", .mustache]),
    .executableTarget(name: "Generator", dependencies: ["GeneratorCore", .argumentParser]),

    // What stamgen writes (never edited by hand).
    .target(name: "Generated", dependencies: ["StamCore", "Persistence", .postgresNIO]),
    .target(name: "GeneratedAPI", dependencies: ["APISupport", "Generated", "Persistence", "StamCore", .hummingbird, .postgresNIO],
            resources: [.embedInCode("openapi.json")]),

    // The runtime.
    runtime("StamCore", []),
    runtime("MigrationSupport", [.crypto]),
    runtime("Observability", [.hummingbird, .prometheus, .nioCore, .logging, .serviceLifecycle]),
    runtime("Database", ["MigrationSupport", "Observability", .postgresNIO, .nioCore, .nioPosix, .nioSSL, .nioConcurrencyHelpers, .logging]),
    runtime("Persistence", ["StamCore", .postgresNIO, .crypto, .logging]),
    runtime("Messaging", ["CRabbitMQ", "StamCore", .logging]),
    runtime("Outbox", ["Observability", "Messaging", "StamCore", "Database", .postgresNIO, .logging, .serviceLifecycle, .prometheus]),
    runtime("Redis", ["CHiredis", "StamCore", .logging, .serviceLifecycle]),
    runtime("Leases", ["Redis", .logging, .serviceLifecycle]),
    runtime("Secrets", ["StamCore", .crypto, .cryptoExtras, .x509]),
    runtime("DC09", [.nioCore, .nioPosix, .nioConcurrencyHelpers, .crypto, .cryptoExtras, .logging, .serviceLifecycle]),
    runtime("Satel", [.nioCore, .nioPosix, .nioConcurrencyHelpers, .logging, .crypto, .cryptoExtras, .serviceLifecycle], exclude: ["README.md"]),
    runtime("Sms", ["Observability", "Messaging", .nioCore, .nioPosix, .nioConcurrencyHelpers, .crypto, .logging, .serviceLifecycle, .prometheus]),
    runtime("APISupport", ["StamCore", "Persistence", .hummingbird, .hummingbirdBcrypt, .jwtKit, .postgresNIO, .crypto, .nioPosix, .serviceLifecycle]),
    .systemLibrary(name: "CRabbitMQ", pkgConfig: "librabbitmq", providers: [.apt(["librabbitmq-dev"])]),
    .systemLibrary(name: "CHiredis", pkgConfig: "hiredis", providers: [.apt(["libhiredis-dev"])]),

    // The applications: alarms, the SMS consumer, the SATEL worker, the operator backend.
    app("Alarms", ["Generated", "Outbox", "Persistence", "StamCore", .postgresNIO, .logging, .serviceLifecycle]),
    app("DC09Ingest", ["Alarms", "DC09", "Generated", "Outbox", "Persistence", "StamCore", .crypto, .nioConcurrencyHelpers, .postgresNIO,
                       .logging, .serviceLifecycle, .prometheus]),
    app("SmsIngest", ["Alarms", "Generated", "Outbox", "Messaging", "StamCore", "Database", "Persistence", .postgresNIO, .logging, .prometheus]),
    .target(name: "Worker", dependencies: [
        "Alarms", "Generated", "Satel", "Redis", "Leases", "Database", "Outbox", "Messaging", "Persistence", "StamCore", "Observability",
        .prometheus, .postgresNIO, .logging, .serviceLifecycle, .nioCore,
    ]),
    .target(name: "Backend", dependencies: [
        "APISupport", "Database", "Generated", "GeneratedAPI", "Persistence", "StamCore", "Outbox", "Messaging", "Redis", "Observability",
        "Alarms", "SmsIngest", .hummingbird, .hummingbirdWebSocket, .serviceLifecycle, .postgresNIO, .prometheus, .crypto, .nioPosix, .nioHTTP1, .hummingbirdCore,
    ], resources: [
        // The web console, embedded in the binary (see ConsoleAssets.swift): plain files, no build step.
        .embedInCode("Console/index.html"), .embedInCode("Console/console.css"),
        .embedInCode("Console/console.js"), .embedInCode("Console/favicon.svg"),
    ]),

    // Development tools: real servers and run directories for `stam up` and tests, the panel and modem simulators.
    .target(name: "DevStack", dependencies: [.logging]),
    .target(name: "SatelSimulator", dependencies: ["Satel", .nioCore, .nioPosix, .nioConcurrencyHelpers, .logging, .crypto, .serviceLifecycle, .yams]),
    .target(name: "SmsSimulator", dependencies: ["Sms", .nioCore, .nioPosix, .nioConcurrencyHelpers, .logging, .serviceLifecycle]),

    // The one service binary.
    .executableTarget(name: "stam", dependencies: [
        "Generated", "StamCore", "Database", "DevStack", "DC09", "DC09Ingest", "Satel", "SatelSimulator", "Messaging", "Outbox", "Secrets", "Backend",
        "APISupport", "Persistence", "Redis", "Sms", "SmsSimulator", "SmsIngest", "Worker", "Leases", "Observability",
        .yams, .hummingbird, .postgresNIO, .prometheus, .argumentParser, .logging, .serviceLifecycle,
    ]),

    // Tests.
    .target(name: "TestSupport", dependencies: ["DevStack", "Messaging", "Database", "MigrationSupport", "Persistence", "StamCore", .postgresNIO, .crypto, .logging,
                                               .hummingbirdWSClient],
            path: "Tests/TestSupport"),
    .testTarget(name: "GeneratorCoreTests", dependencies: ["GeneratorCore", .yams]),
    .testTarget(name: "DeploymentTests", dependencies: ["GeneratorCore", "DevStack", "Secrets", "Generated", "StamCore", "Messaging", "TestSupport", .yams, .logging]),
    .testTarget(name: "CLITests", dependencies: ["stam", "TestSupport", .argumentParser]),
    .testTarget(name: "EndToEndTests", dependencies: ["DevStack", "TestSupport", .yams, .hummingbirdWSClient, .nioSSL, .logging, .nioCore]),
    .testTarget(name: "RuntimeTests", dependencies: [
        "Database", "DevStack", "MigrationSupport", "StamCore", "Generated", "Messaging", "Outbox", "Persistence", "TestSupport", "Secrets",
        "Observability", .prometheus, .postgresNIO, .crypto,
    ]),
    .testTarget(name: "BackendTests", dependencies: [
        "Backend", "APISupport", "GeneratedAPI", "Database", "DevStack", "MigrationSupport", "StamCore", "Generated", "Messaging", "Outbox",
        "Persistence", "TestSupport", "Redis", "Observability", "Alarms", .hummingbird, .hummingbirdTesting, .hummingbirdWSClient, .cryptoExtras,
        .jwtKit, .postgresNIO, .crypto, .serviceLifecycle,
    ]),
    .testTarget(name: "AlarmTests", dependencies: [
        "Alarms", "Generated", "Outbox", "Persistence", "Database", "TestSupport", .postgresNIO, .logging,
    ]),
    .testTarget(name: "DC09IngestTests", dependencies: [
        "DC09", "DC09Ingest", "Database", "DevStack", "Generated", "Persistence", "StamCore", "TestSupport", .logging, .postgresNIO, .serviceLifecycle,
    ]),
    .testTarget(name: "DC09Tests", dependencies: ["DC09", "DevStack", .nioCore, .nioPosix, .nioConcurrencyHelpers, .logging, .serviceLifecycle], exclude: ["dc09_spt_driver.py", "pysiaalarm_receiver.py"]),
    .testTarget(name: "SatelTests", dependencies: ["Satel", "SatelSimulator", .nioCore, .nioPosix, .nioEmbedded, .nioConcurrencyHelpers]),
    .testTarget(name: "RedisTests", dependencies: ["Redis", "Leases", "DevStack", "TestSupport", .logging, .serviceLifecycle]),
    .testTarget(name: "WorkerTests", dependencies: [
        "Worker", "Generated", "Satel", "SatelSimulator", "Redis", "Leases", "Database", "Outbox", "Messaging", "Persistence", "StamCore",
        "DevStack", "MigrationSupport", "TestSupport", "SmsIngest", "Observability", "Alarms", .postgresNIO, .logging, .serviceLifecycle, .crypto,
    ]),
    .testTarget(name: "SmsTests", dependencies: [
        "Sms", "SmsSimulator", "SmsIngest", "TestSupport", "Database", "Generated", "DevStack", "Messaging", "MigrationSupport", "Outbox",
        "Persistence", .nioCore, .nioEmbedded, .postgresNIO, .serviceLifecycle,
    ]),
]

/// `make bench` and `make fuzz` (scripts/bench.sh, scripts/fuzz-satel.sh) set STAM_BENCHMARKS=1; `make test` does not
/// build what it does not run.
let benchmarks: [Target] = [
    benchmark("BenchSupport", [], library: true),
    benchmark("GeneratorBench", ["GeneratorCore"]),
    benchmark("SatelBench", ["Satel", "SatelSimulator", .nioCore, .nioPosix, .nioConcurrencyHelpers]),
    benchmark("SatelFuzz", ["Satel", "SatelSimulator", .nioCore]),
    benchmark("OutboxBench", ["Outbox", "Messaging", "Database", "DevStack", "MigrationSupport", "Generated", "StamCore", .postgresNIO, .logging, .serviceLifecycle]),
    benchmark("ApiBench", ["APISupport", "BenchSupport", "Database", "Generated", "DevStack", "Messaging", "MigrationSupport", "Persistence",
                           .logging, .cryptoExtras, .nioPosix, .postgresNIO]),
    benchmark("WorkerBench", ["BenchSupport", "Database", "DevStack", "MigrationSupport", "Generated", "Persistence", "Outbox", .postgresNIO,
                              .logging, .nioCore, .nioPosix, .nioConcurrencyHelpers]),
    benchmark("StackBench", ["BenchSupport", "DevStack", .hummingbirdWSClient, .nioSSL, .logging]),
    benchmark("DC09Bench", ["BenchSupport", "DC09", "Database", "DevStack", "MigrationSupport", "Generated", "Persistence", "StamCore", .postgresNIO, .logging, .nioCore, .nioPosix, .nioConcurrencyHelpers]),
]
let withBenchmarks = ProcessInfo.processInfo.environment["STAM_BENCHMARKS"] == "1"

let package = Package(
    name: "stam",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "stamgen", targets: ["Generator"]),
        .executable(name: "stam", targets: ["stam"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.8.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: targets + (withBenchmarks ? benchmarks : [])
)
