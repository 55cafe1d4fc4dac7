// swift-tools-version: 6.1
import Foundation
import PackageDescription

// The CPU the numerics and parsers are compiled for. By default, the x86-64 level of
// the machine that builds, as `-march=native` would: latentd is built where it runs, and
// AVX2/FMA make the E-steps 1.2–2x faster (README, Performance). On a machine without
// them, and on arm64, the compiler's default. `LATENTD_TARGET_CPU` overrides it:
// `LATENTD_TARGET_CPU=x86-64 swift build -c release` builds a binary for any x86-64.
func targetCPU() -> String? {
    if let cpu = ProcessInfo.processInfo.environment["LATENTD_TARGET_CPU"] { return cpu.isEmpty ? nil : cpu }
    #if arch(x86_64) && os(Linux)
    guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
    let flags = Set(line.split(separator: " ").map(String.init))
    // The x86-64-v3 feature set (abm is how /proc/cpuinfo says lzcnt); its oldest CPU,
    // haswell, names it, because the clang importer does not know "x86-64-v3".
    let v3 = ["avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"]
    return v3.allSatisfy(flags.contains) ? "haswell" : nil
    #else
    return nil
    #endif
}
// CPUs with fused multiply-add. On them LATENTD_FMA lets the kernels fuse a·b + c (one
// instruction and one rounding); elsewhere a fused multiply-add is a libm call per lane.
let fmaCPUs: Set<String> = [
    "haswell", "broadwell", "skylake", "skylake-avx512", "cascadelake", "icelake-server",
    "sapphirerapids", "znver1", "znver2", "znver3", "znver4",
]
let cpuSettings: [SwiftSetting] = targetCPU().map { cpu in
    [.unsafeFlags(["-target-cpu", cpu])] + (fmaCPUs.contains(cpu) ? [.define("LATENTD_FMA")] : [])
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
        .testTarget(name: "LatentDaemonTests", dependencies: ["LatentDaemon", "ZeroMQ", "CAllocationCounter"]),
        .testTarget(name: "EndToEndTests", dependencies: ["latentd", "LatentCore", "LatentDaemon", "ZeroMQ"]),
    ],
    swiftLanguageModes: [.v6]
)
