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
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.1.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.70.0"),
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
        .target(name: "EngineServer", dependencies: [
                    "LLMEngine", "OpenAIAPI",
                    .product(name: "Hummingbird", package: "hummingbird"),
                    .product(name: "NIOCore", package: "swift-nio"),
                    .product(name: "Logging", package: "swift-log"),
                    .product(name: "Metrics", package: "swift-metrics"),
                    .product(name: "Prometheus", package: "swift-prometheus"),
                    .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                ], swiftSettings: swiftSettings),
        .target(name: "ScaleLLMCLI", dependencies: [
                    "EngineServer", "LLMEngine", "LLMModel", "LLMTensor",
                    .product(name: "ArgumentParser", package: "swift-argument-parser"),
                    .product(name: "Logging", package: "swift-log"),
                ], swiftSettings: swiftSettings),
        .executableTarget(name: "scalellm", dependencies: ["ScaleLLMCLI"],
                          swiftSettings: swiftSettings),
        .testTarget(name: "LLMTensorTests", dependencies: ["LLMTensor", "CKernels"],
                    swiftSettings: swiftSettings),
        .testTarget(name: "LLMModelTests", dependencies: ["LLMModel", "LLMTensor"],
                    swiftSettings: swiftSettings),
        .testTarget(name: "LLMEngineTests", dependencies: ["LLMEngine", "LLMModel"],
                    swiftSettings: swiftSettings),
    ],
    swiftLanguageModes: [.v6]
)
