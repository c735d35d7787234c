// swift-tools-version:6.1
// The stam package: the stamgen generator, the generated code, the hand-written runtime and the one
// service binary. Heavy server dependencies stay out of GeneratorCore so `stamgen` builds fast.
// Tools version 6.1: every target compiles in the Swift 6 language mode without a setting of its own.
import PackageDescription

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
            path: "Sources/Runtime/MigrationSupport"
        ),
        .target(
            name: "GeneratorCore",
            dependencies: ["Yams", "MigrationSupport", "StamCore", .product(name: "Mustache", package: "swift-mustache")]
        ),
        .executableTarget(
            name: "Generator",
            dependencies: ["GeneratorCore", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),

        // MARK: Runtime (hand-written)
        .target(
            name: "StamCore",
            path: "Sources/Runtime/StamCore"
        ),
        .target(
            name: "Database",
            dependencies: [
                "MigrationSupport", "Observability",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Runtime/Database"
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
            path: "Sources/Runtime/Messaging"
        ),
        .target(
            name: "Outbox",
            dependencies: [
                "Observability", "Messaging", "StamCore", "Database",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Sources/Runtime/Outbox"
        ),
        .target(
            name: "LocalStack",
            dependencies: [.product(name: "Logging", package: "swift-log")],
            path: "Sources/Runtime/LocalStack"
        ),
        .target(
            name: "Secrets",
            dependencies: [
                "StamCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
            ],
            path: "Sources/Runtime/Secrets"
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
            exclude: ["README.md"]
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
            path: "Sources/Runtime/Observability"
        ),

        .executableTarget(
            name: "SatelFuzz",
            dependencies: ["Satel", .product(name: "NIOCore", package: "swift-nio")],
            path: "Sources/Runtime/SatelFuzz"
        ),
        .executableTarget(
            name: "SatelBench",
            dependencies: [
                "Satel",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            path: "Sources/Runtime/SatelBench"
        ),

        .target(
            name: "Persistence",
            dependencies: [
                "StamCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Runtime/Persistence"
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
            path: "Sources/Runtime/APISupport"
        ),
        .target(
            name: "GeneratedAPI",
            dependencies: [
                "APISupport", "Generated", "Persistence", "StamCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            resources: [.embedInCode("openapi.json")]
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
            path: "Sources/Runtime/Redis"
        ),
        .target(
            name: "Leases",
            dependencies: [
                "Redis",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/Runtime/Leases"
        ),
        .testTarget(
            name: "RedisTests",
            dependencies: [
                "Redis", "Leases", "LocalStack",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // MARK: end Redis

        // MARK: Worker (issue #5: `stam worker`, panel ownership, panel -> events, commands, health)
        .target(
            name: "Worker",
            dependencies: [
                "Alarms", "Generated", "Satel", "Redis", "Leases", "Database", "Outbox", "Messaging", "Persistence", "StamCore", "Observability",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Sources/Worker"
        ),
        .testTarget(
            name: "WorkerTests",
            dependencies: [
                "Worker", "Generated", "Satel", "Redis", "Leases", "Database", "Outbox", "Messaging", "Persistence",
                "StamCore", "LocalStack", "MigrationSupport", "TestSupport", "SmsIngest", "Observability",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
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
            ]
        ),

        // MARK: Generated (never edited by hand)
        .target(
            name: "Generated",
            dependencies: ["StamCore", "Persistence", .product(name: "PostgresNIO", package: "postgres-nio")]
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
            ]
        ),

        // MARK: SMS (issue #7): modem agent, simulator, consumer, tests
        .target(
            name: "Sms",
            dependencies: [
                "Observability", "Messaging",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Sources/Runtime/Sms"
        ),
        .target(
            name: "Alarms",
            dependencies: [
                "Generated", "Outbox", "Persistence",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/App/Alarms"
        ),
        .target(
            name: "SmsIngest",
            dependencies: [
                "Alarms", "Generated", "Outbox", "Messaging", "StamCore", "Database", "Persistence",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Sources/App/SmsIngest"
        ),
        .target(
            name: "TestSupport",
            dependencies: [
                "LocalStack", "Messaging", "Database", "Persistence",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/TestSupport"
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
            ]
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
            path: "Sources/Benchmarks/ApiBench"
        ),
        .executableTarget(
            name: "GeneratorBench",
            dependencies: ["GeneratorCore"],
            path: "Sources/Benchmarks/GeneratorBench"
        ),
        .executableTarget(
            name: "OutboxBench",
            dependencies: [
                "Outbox", "Messaging", "Database", "LocalStack", "MigrationSupport", "Generated", "StamCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/Benchmarks/OutboxBench"
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
            path: "Sources/Benchmarks/WorkerBench"
        ),
        .target(name: "BenchSupport", path: "Sources/Benchmarks/BenchSupport"),
        .executableTarget(
            name: "StackBench",
            dependencies: [
                "BenchSupport", "LocalStack",
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Benchmarks/StackBench"
        ),

        // MARK: Tests
        .testTarget(
            name: "GeneratorCoreTests",
            dependencies: ["GeneratorCore", "Yams"]
        ),
        .testTarget(
            name: "DeploymentTests",
            dependencies: ["GeneratorCore", "LocalStack", "Secrets", "Generated", "StamCore", "Messaging", "Yams",
                           .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "CLITests",
            dependencies: ["stam", "TestSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "LocalStack", "TestSupport", "Yams",
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "RuntimeTests",
            dependencies: [
                "Database", "LocalStack", "MigrationSupport", "StamCore", "Generated", "Messaging", "Outbox", "Persistence",
                "TestSupport", "Secrets", "Observability",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "BackendTests",
            dependencies: [
                "Backend", "APISupport", "GeneratedAPI", "Database", "LocalStack", "MigrationSupport", "StamCore", "Generated",
                "Messaging", "Outbox", "Persistence", "TestSupport", "Redis", "Observability",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "SatelTests",
            dependencies: [
                "Satel",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
    ]
)
