// swift-tools-version: 6.1
import Foundation
import PackageDescription

// Opt-in: `LATENTD_TARGET_CPU=haswell swift build -c release` lets the numerics and
// the parsers use AVX2/FMA (1.3–2x on the diagonal E-step). The default build runs
// on any x86-64 (or arm64) machine.
let cpuSettings: [SwiftSetting] = ProcessInfo.processInfo.environment["LATENTD_TARGET_CPU"].map {
    [.unsafeFlags(["-target-cpu", $0])]
} ?? []

let package = Package(
    name: "latentd",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "latentd", targets: ["latentd"]),
        .library(name: "LatentCore", targets: ["LatentCore"]),
        .library(name: "ZeroMQ", targets: ["ZeroMQ"]),
        .library(name: "LatentDaemon", targets: ["LatentDaemon"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.1.0"),
    ],
    targets: [
        // Numerics: models, sufficient statistics, EM. No I/O.
        .target(name: "LatentCore", swiftSettings: cpuSettings),
        // libzmq from Debian's libzmq3-dev. Its headers live in /usr/include, so we do
        // not ask pkg-config: libzmq.pc's Kerberos -isystem flags make SwiftPM warn
        // ("prohibited flags") on every build.
        .systemLibrary(
            name: "CZeroMQ",
            providers: [.apt(["libzmq3-dev"])]
        ),
        // A thin, safe wrapper over libzmq.
        .target(name: "ZeroMQ", dependencies: ["CZeroMQ"]),
        // The daemon: config, wire protocol, routing, checkpoints, control, lifecycle.
        .target(
            name: "LatentDaemon",
            dependencies: [
                "LatentCore", "ZeroMQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: cpuSettings
        ),
        .executableTarget(
            name: "latentd",
            dependencies: [
                "LatentDaemon", "ZeroMQ",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        // Test-only: per-thread malloc counting, to prove the hot path allocates nothing.
        .target(name: "CAllocationCounter", path: "Tests/Support/CAllocationCounter"),
        .testTarget(name: "LatentCoreTests", dependencies: ["LatentCore", "CAllocationCounter"], exclude: ["Fixtures"]),
        .testTarget(name: "ZeroMQTests", dependencies: ["ZeroMQ"]),
        .testTarget(name: "LatentDaemonTests", dependencies: ["LatentDaemon", "CAllocationCounter"]),
        .testTarget(name: "EndToEndTests", dependencies: ["latentd", "LatentCore", "LatentDaemon", "ZeroMQ"]),
    ],
    swiftLanguageModes: [.v6]
)
