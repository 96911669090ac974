// swift-tools-version: 6.1
import PackageDescription

/// Kernels are compiled for the machine kind Origami targets (x86-64 with AVX-512, VNNI and BF16), and
/// tuned generically: `-mtune=znver5` was measured to unroll row loops into a 3x slowdown (docs/PERFORMANCE notes).
let simdFlags: [String] = ["-Xcc", "-march=x86-64-v4", "-Xcc", "-mavx512vnni", "-Xcc", "-mavx512bf16", "-Xcc", "-mtune=generic"]
let cSimdFlags: [String] = ["-march=x86-64-v4", "-mavx512vnni", "-mavx512bf16", "-mtune=generic"]

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]
let fast: [SwiftSetting] = strict + [.unsafeFlags(simdFlags)]

let package = Package(
    name: "Origami",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "origami", targets: ["origami"]),
        .library(name: "Origami", targets: ["OrigamiRuntime"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.20.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.1.0"),
    ],
    targets: [
        // Storage: dtypes, memory-mapped files, typed tensor views, aligned buffers, the thread pool.
        .target(name: "OrigamiTensor", swiftSettings: fast),
        // C shims for intrinsics Swift cannot import directly (bf16 vector types, immediates).
        .target(name: "COrigamiKernels", cSettings: [.unsafeFlags(cSimdFlags + ["-O3"])]),
        // Compute kernels with plain reference twins.
        .target(name: "OrigamiKernels", dependencies: ["OrigamiTensor", "COrigamiKernels"], swiftSettings: fast),
        // File formats: safetensors (read/write), Hugging Face config.json.
        .target(name: "OrigamiFormats", dependencies: ["OrigamiTensor"], swiftSettings: strict),
        // tokenizer.json, tokenizer_config.json, generation_config.json, chat templates.
        .target(name: "OrigamiTokenizers", swiftSettings: strict),
        // Layers over any weight type: Linear, norms, attention, KV cache, scoped weight binding.
        .target(name: "OrigamiNN", dependencies: ["OrigamiTensor", "OrigamiKernels", "OrigamiFormats"], swiftSettings: fast),
        // Quantized weight types and their quantizers (int8, LLM.int8(), NF4/FP4, ...), as LinearWeight/LinearBinder.
        .target(
            name: "OrigamiQuant", dependencies: ["OrigamiNN", "OrigamiKernels", "OrigamiFormats", "OrigamiTensor"],
            swiftSettings: fast),
        // One file per architecture, a registry by model_type.
        .target(name: "OrigamiModels", dependencies: ["OrigamiNN", "OrigamiFormats"], swiftSettings: fast),
        // Loading a model directory, generation, sampling, perplexity, benchmarks.
        .target(
            name: "OrigamiRuntime",
            dependencies: ["OrigamiModels", "OrigamiNN", "OrigamiQuant", "OrigamiKernels", "OrigamiTokenizers", "OrigamiFormats"],
            swiftSettings: fast),
        // The OpenAI-compatible HTTP server: request validation, streaming, metrics, over the batch scheduler.
        .target(
            name: "OrigamiServer",
            dependencies: [
                "OrigamiRuntime", "OrigamiModels", "OrigamiTokenizers", "OrigamiFormats",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "origami",
            dependencies: [
                "OrigamiServer", "OrigamiRuntime", "OrigamiQuant", "OrigamiModels", "OrigamiFormats", "OrigamiTokenizers", "OrigamiNN", "OrigamiTensor",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),

        .testTarget(name: "OrigamiTensorTests", dependencies: ["OrigamiTensor"], swiftSettings: strict),
        .testTarget(name: "OrigamiKernelsTests", dependencies: ["OrigamiKernels"], swiftSettings: fast),
        .testTarget(
            name: "OrigamiQuantTests",
            dependencies: ["OrigamiQuant", "OrigamiRuntime", "OrigamiModels", "OrigamiNN", "OrigamiKernels", "OrigamiFormats", "OrigamiTensor"],
            swiftSettings: fast),
        .testTarget(name: "OrigamiFormatsTests", dependencies: ["OrigamiFormats"], swiftSettings: strict),
        .testTarget(
            name: "OrigamiTokenizersTests", dependencies: ["OrigamiTokenizers"], swiftSettings: strict),
        .testTarget(
            name: "OrigamiModelsTests", dependencies: ["OrigamiRuntime", "OrigamiModels", "OrigamiNN", "OrigamiFormats"],
            swiftSettings: strict),
        .testTarget(
            name: "OrigamiRuntimeTests", dependencies: ["OrigamiRuntime", "OrigamiNN", "OrigamiModels", "OrigamiFormats", "OrigamiTensor"],
            swiftSettings: strict),
        .testTarget(
            name: "OrigamiServerTests",
            dependencies: [
                "OrigamiServer", "OrigamiRuntime", "OrigamiModels", "OrigamiNN", "OrigamiFormats", "OrigamiTokenizers",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: strict),
    ]
)
