// swift-tools-version: 6.1
// Performance benchmarks for latentd (ordo-one/benchmark). A package of its own so that
// the root package, `swift test` and CI never build it: run it from this folder with
// `swift package benchmark` (see README.md).
import PackageDescription

let benchmarkTargets = ["MixtureBenchmarks", "HMMBenchmarks", "CodecBenchmarks", "BLASBenchmarks"]

let package = Package(
    name: "latentd-benchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        // Named, because a path package is otherwise known by its folder name (a work tree or
        // a CI clone can be called anything).
        .package(name: "latentd", path: ".."),
        // The trait list replaces the defaults: MallocInterposer counts allocations
        // without jemalloc; RuntimeInterposer is left off (it needs a package this
        // machine's package copies do not carry).
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.0", traits: ["MallocInterposer"]),
    ],
    targets: [
        // Models, data and the shared configuration (1000 observations per iteration).
        .target(
            name: "BenchmarkFixtures",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "LatentCore", package: "latentd"),
                .product(name: "LatentDaemon", package: "latentd"),  // MixtureBenchmark.model
            ],
            path: "Fixtures"
        ),
        // OpenBLAS (Debian's libopenblas-dev), only for BLASBenchmarks' comparison with
        // the hand-written full-covariance kernel; latentd itself does not link it.
        .systemLibrary(name: "COpenBLAS", path: "COpenBLAS", providers: [.apt(["libopenblas-dev"])]),
    ] + benchmarkTargets.map { name in
        .executableTarget(
            name: name,
            dependencies: [
                "BenchmarkFixtures",
                .product(name: "Benchmark", package: "benchmark"),
            ] + (name == "BLASBenchmarks" ? ["COpenBLAS"] : []) + [
                .product(name: "LatentCore", package: "latentd"),
                .product(name: "LatentDaemon", package: "latentd"),
            ],
            path: name,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    },
    swiftLanguageModes: [.v6]
)
