// swift-tools-version: 6.0
import PackageDescription

/// Settings applied to every Swift target: Swift 6 language mode with strict concurrency.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "ScaleLLM",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "scalellm", targets: ["scalellm"]),
        .executable(name: "scalellm-stub", targets: ["scalellm-stub"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.1.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.70.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.21.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "5.0.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.27.0"),
        // Already in the graph through Hummingbird; ServerSupport's fast-path channel names its HTTP/1.1 codec.
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.34.1"),
    ],
    targets: [
        // System library: OpenBLAS float GEMM for large prefills.
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        // C SIMD kernels with run-time CPU feature dispatch and a spinning worker pool.
        .target(name: "CKernels", dependencies: ["COpenBLAS"],
                cSettings: [.unsafeFlags(["-O3", "-fno-math-errno"])]),
        .target(name: "LLMTensor", dependencies: ["CKernels", "COpenBLAS"],
                swiftSettings: swiftSettings),
        .target(name: "LLMModel", dependencies: ["LLMTensor", "CKernels"],
                swiftSettings: swiftSettings),
        .target(name: "LLMEngine", dependencies: [
                    "LLMModel",
                    .product(name: "Logging", package: "swift-log"),
                    .product(name: "Metrics", package: "swift-metrics"),
                ], swiftSettings: swiftSettings),
        .target(name: "OpenAIAPI", swiftSettings: swiftSettings),
        // Shared by the HTTP servers: OpenAI-style JSON errors, JSON bodies, the Prometheus registry, the event-loop fast-path channel.
        .target(name: "ServerSupport", dependencies: [
                    "OpenAIAPI",
                    .product(name: "Hummingbird", package: "hummingbird"),
                    .product(name: "HummingbirdCore", package: "hummingbird"),
                    .product(name: "NIOCore", package: "swift-nio"),
                    .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                    .product(name: "Logging", package: "swift-log"),
                    .product(name: "Metrics", package: "swift-metrics"),
                    .product(name: "Prometheus", package: "swift-prometheus"),
                ], swiftSettings: swiftSettings),
        // The OpenAI-compatible ingress: replica pool, routing policies by load level, proxying.
        .target(name: "Gateway", dependencies: [
                    "OpenAIAPI", "ServerSupport", "KubernetesClient",
                    .product(name: "Hummingbird", package: "hummingbird"),
                    .product(name: "HummingbirdCore", package: "hummingbird"),
                    .product(name: "HTTPTypes", package: "swift-http-types"),
                    .product(name: "AsyncHTTPClient", package: "async-http-client"),
                    .product(name: "NIOCore", package: "swift-nio"),
                    .product(name: "NIOHTTP1", package: "swift-nio"),
                    .product(name: "NIOPosix", package: "swift-nio"),
                    .product(name: "Logging", package: "swift-log"),
                    .product(name: "Metrics", package: "swift-metrics"),
                    .product(name: "Prometheus", package: "swift-prometheus"),
                    .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                    .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                    .product(name: "Yams", package: "Yams"),
                ], swiftSettings: swiftSettings),
        // A thin typed client of the Kubernetes REST API: kubeconfig/in-cluster auth, watches, apply.
        .target(name: "KubernetesClient", dependencies: [
                    .product(name: "AsyncHTTPClient", package: "async-http-client"),
                    .product(name: "NIOCore", package: "swift-nio"),
                    .product(name: "NIOHTTP1", package: "swift-nio"),
                    .product(name: "NIOSSL", package: "swift-nio-ssl"),
                    .product(name: "Logging", package: "swift-log"),
                    .product(name: "Yams", package: "Yams"),
                ], swiftSettings: swiftSettings),
        // The LLMService controller: reconciles the custom resource into Deployments and Services.
        .target(name: "Operator", dependencies: [
                    "KubernetesClient", "Autoscaler",
                    .product(name: "AsyncHTTPClient", package: "async-http-client"),
                    .product(name: "NIOCore", package: "swift-nio"),
                    .product(name: "Hummingbird", package: "hummingbird"),
                    .product(name: "Logging", package: "swift-log"),
                    .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                    .product(name: "Yams", package: "Yams"),
                ], swiftSettings: swiftSettings),
        .target(name: "EngineServer", dependencies: [
                    "LLMEngine", "OpenAIAPI", "ServerSupport",
                    .product(name: "Hummingbird", package: "hummingbird"),
                    .product(name: "NIOCore", package: "swift-nio"),
                    .product(name: "Logging", package: "swift-log"),
                    .product(name: "Metrics", package: "swift-metrics"),
                    .product(name: "Prometheus", package: "swift-prometheus"),
                    .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                ], swiftSettings: swiftSettings),
        .target(name: "ScaleLLMCLI", dependencies: [
                    "EngineServer", "Gateway", "LLMEngine", "LLMModel", "LLMTensor", "Operator", "KubernetesClient", "Autoscaler",
                    .product(name: "Metrics", package: "swift-metrics"),
                    .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                    .product(name: "NIOCore", package: "swift-nio"),
                    .product(name: "ArgumentParser", package: "swift-argument-parser"),
                    .product(name: "Logging", package: "swift-log"),
                ], swiftSettings: swiftSettings),
        .executableTarget(name: "scalellm", dependencies: ["ScaleLLMCLI"],
                          swiftSettings: swiftSettings),
        // A fast stand-in engine for gateway tests and benchmarks.
        .target(name: "StubBackend", dependencies: [
                    "ServerSupport",
                    .product(name: "Hummingbird", package: "hummingbird"),
                    .product(name: "HummingbirdCore", package: "hummingbird"),
                    .product(name: "NIOHTTP1", package: "swift-nio"),
                ], swiftSettings: swiftSettings),
        .executableTarget(name: "scalellm-stub", dependencies: ["StubBackend", .product(name: "Hummingbird", package: "hummingbird"),
                                                                           .product(name: "NIOPosix", package: "swift-nio")],
                          swiftSettings: swiftSettings),
        .testTarget(name: "LLMTensorTests", dependencies: ["LLMTensor", "CKernels"],
                    swiftSettings: swiftSettings),
        .testTarget(name: "LLMModelTests", dependencies: ["LLMModel", "LLMTensor"],
                    swiftSettings: swiftSettings),
        .testTarget(name: "GatewayTests", dependencies: [
                        "Gateway", "StubBackend", "ServerSupport",
                        .product(name: "NIOCore", package: "swift-nio"),
                        .product(name: "NIOEmbedded", package: "swift-nio"),
                        .product(name: "AsyncHTTPClient", package: "async-http-client"),
                        .product(name: "Hummingbird", package: "hummingbird"),
                        .product(name: "NIOHTTP1", package: "swift-nio"),
                    ],
                    swiftSettings: swiftSettings),
        .target(name: "Autoscaler", swiftSettings: swiftSettings),
        .testTarget(name: "AutoscalerTests", dependencies: ["Autoscaler"], swiftSettings: swiftSettings),
        .testTarget(name: "OperatorTests", dependencies: ["Operator", "KubernetesClient", "Autoscaler"], exclude: ["Fixtures"],
                    swiftSettings: swiftSettings),
        .testTarget(name: "LLMEngineTests", dependencies: ["LLMEngine", "LLMModel"],
                    swiftSettings: swiftSettings),
    ],
    swiftLanguageModes: [.v6]
)
