import ArgumentParser
import LatentDaemon

@main
struct Latentd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latentd",
        abstract: "Learns Gaussian mixtures from live ZeroMQ streams with stepwise EM.",
        discussion: """
            latentd subscribes to observation streams, keeps sufficient statistics, updates
            its models online, and publishes posteriors and parameters over ZeroMQ.
            Start with `latentd demo`, then `latentd run --config config/latentd.yaml`.
            """,
        version: LatentdVersion.string,
        subcommands: [Run.self, CheckConfig.self, Inspect.self, Demo.self, Bench.self, Throughput.self, Relay.self]
    )
}
