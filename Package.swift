// swift-tools-version:6.1
// The stam package: the stamgen generator, the generated code, the hand-written runtime and the one
// service binary. Heavy server dependencies stay out of GeneratorCore so `stamgen` builds fast.
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]

let package = Package(
    name: "stam",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "stamgen", targets: ["Generator"]),
        .executable(name: "stam", targets: ["stam"]),
        .executable(name: "GeneratorBench", targets: ["GeneratorBench"]),
        .executable(name: "OutboxBench", targets: ["OutboxBench"]),
        .executable(name: "WorkerBench", targets: ["WorkerBench"]),
        .executable(name: "StackBench", targets: ["StackBench"]),
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
        // MARK: Observability
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // MARK: Generator
        .target(
            name: "MigrationSupport",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            path: "Sources/Runtime/MigrationSupport",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "GeneratorCore",
            dependencies: ["Yams", "MigrationSupport", "StamCore", .product(name: "Mustache", package: "swift-mustache")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "Generator",
            dependencies: ["GeneratorCore", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: swiftSettings
        ),

        // MARK: Runtime (hand-written)
        .target(
            name: "StamCore",
            path: "Sources/Runtime/StamCore",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Database",
            dependencies: [
                "MigrationSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Runtime/Database",
            swiftSettings: swiftSettings
        ),
        .systemLibrary(
            name: "CRabbitMQ",
            path: "Sources/CRabbitMQ",
            pkgConfig: "librabbitmq",
            providers: [.apt(["librabbitmq-dev"])]
        ),
        .target(
            name: "Messaging",
            dependencies: ["CRabbitMQ", "StamCore", .product(name: "Logging", package: "swift-log")],
            path: "Sources/Runtime/Messaging",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Outbox",
            dependencies: [
                "Messaging", "StamCore", "Database",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Sources/Runtime/Outbox",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "LocalStack",
            dependencies: [.product(name: "Logging", package: "swift-log")],
            path: "Sources/Runtime/LocalStack",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Secrets",
            dependencies: [
                "StamCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
            ],
            path: "Sources/Runtime/Secrets",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Satel",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                "Yams",
            ],
            path: "Sources/Runtime/Satel",
            exclude: ["README.md"],
            swiftSettings: swiftSettings
        ),

        // MARK: Observability
        .target(
            name: "Observability",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/Runtime/Observability",
            swiftSettings: swiftSettings
        ),

        .executableTarget(
            name: "SatelFuzz",
            dependencies: ["Satel", .product(name: "NIOCore", package: "swift-nio")],
            path: "Sources/Runtime/SatelFuzz",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "SatelBench",
            dependencies: [
                "Satel",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            path: "Sources/Runtime/SatelBench",
            swiftSettings: swiftSettings
        ),

        .target(
            name: "Persistence",
            dependencies: [
                "StamCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Runtime/Persistence",
            swiftSettings: swiftSettings
        ),

        // MARK: Operator API
        .target(
            name: "APISupport",
            dependencies: [
                "StamCore", "Persistence",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/Runtime/APISupport",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "GeneratedAPI",
            dependencies: [
                "APISupport", "Generated", "Persistence", "StamCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Redis (hiredis runtime, panel leases, their tests)
        .systemLibrary(
            name: "CHiredis",
            path: "Sources/CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        .target(
            name: "Redis",
            dependencies: [
                "CHiredis", "StamCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/Runtime/Redis",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Leases",
            dependencies: [
                "Redis",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/Runtime/Leases",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RedisTests",
            dependencies: [
                "Redis", "Leases", "LocalStack",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // MARK: end Redis

        // MARK: Worker (issue #5: `stam worker`, panel ownership, panel -> events, commands, health)
        .target(
            name: "Worker",
            dependencies: [
                "Generated", "Satel", "Redis", "Leases", "Database", "Outbox", "Messaging", "Persistence", "StamCore", "Observability",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Sources/Worker",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WorkerTests",
            dependencies: [
                "Worker", "Generated", "Satel", "Redis", "Leases", "Database", "Outbox", "Messaging", "Persistence",
                "StamCore", "LocalStack", "MigrationSupport", "TestSupport", "SmsIngest",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // MARK: end Worker

        .target(
            name: "Backend",
            dependencies: [
                "APISupport", "Generated", "GeneratedAPI", "Persistence", "StamCore", "Outbox", "Messaging", "Redis", "Observability",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            // The web console, embedded in the binary (see ConsoleAssets.swift): plain files, no build step.
            resources: [
                .embedInCode("Console/index.html"),
                .embedInCode("Console/console.css"),
                .embedInCode("Console/console.js"),
                .embedInCode("Console/favicon.svg"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Generated (never edited by hand)
        .target(
            name: "Generated",
            dependencies: ["StamCore", "Persistence", .product(name: "PostgresNIO", package: "postgres-nio")],
            swiftSettings: swiftSettings
        ),

        // MARK: The service binary
        .executableTarget(
            name: "stam",
            dependencies: [
                "Generated", "StamCore", "Database", "LocalStack", "Satel", "Messaging", "Outbox", "Secrets",
                "Backend", "APISupport", "Persistence", "Redis", "Sms", "SmsIngest", "Worker", "Leases", "Yams",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                "Observability", .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: SMS (issue #7): modem agent, simulator, consumer, tests
        .target(
            name: "Sms",
            dependencies: [
                "Messaging",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Sources/Runtime/Sms",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SmsIngest",
            dependencies: [
                "Generated", "Outbox", "Messaging", "StamCore", "Database",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Sources/App/SmsIngest",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TestSupport",
            dependencies: ["LocalStack", "Messaging"],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SmsTests",
            dependencies: [
                "Sms", "SmsIngest", "TestSupport", "Database", "Generated", "LocalStack", "Messaging", "MigrationSupport",
                "Outbox",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // MARK: end SMS

        // MARK: Benchmarks (`make bench`)
        .executableTarget(
            name: "ApiBench",
            dependencies: [
                "APISupport", "Database", "Generated", "LocalStack", "Messaging", "MigrationSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            path: "Sources/Benchmarks/ApiBench",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "GeneratorBench",
            dependencies: ["GeneratorCore"],
            path: "Sources/Benchmarks/GeneratorBench",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "OutboxBench",
            dependencies: [
                "Outbox", "Messaging", "Database", "LocalStack", "MigrationSupport", "Generated", "StamCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/Benchmarks/OutboxBench",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "WorkerBench",
            dependencies: [
                "BenchSupport", "Database", "LocalStack", "MigrationSupport", "Generated", "Persistence", "Outbox",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            path: "Sources/Benchmarks/WorkerBench",
            swiftSettings: swiftSettings
        ),
        .target(name: "BenchSupport", path: "Sources/Benchmarks/BenchSupport", swiftSettings: swiftSettings),
        .executableTarget(
            name: "StackBench",
            dependencies: [
                "BenchSupport", "LocalStack",
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Benchmarks/StackBench",
            swiftSettings: swiftSettings
        ),

        // MARK: Tests
        .testTarget(
            name: "GeneratorCoreTests",
            dependencies: ["GeneratorCore", "Yams"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DeploymentTests",
            dependencies: ["GeneratorCore", "LocalStack", "Secrets", "Generated", "StamCore", "Messaging", "Yams",
                           .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CLITests",
            dependencies: ["stam", "TestSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "LocalStack", "TestSupport", "Yams",
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RuntimeTests",
            dependencies: [
                "Database", "LocalStack", "MigrationSupport", "StamCore", "Generated", "Messaging", "Outbox", "Persistence",
                "Backend", "APISupport", "GeneratedAPI", "TestSupport", "Redis", "Secrets",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
                "Observability", .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SatelTests",
            dependencies: [
                "Satel",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
