import ArgumentParser
import LatentDaemon
import Logging

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Watch latentd learn a synthetic sensor stream over real ZeroMQ sockets; ends by itself.",
        discussion: """
            Starts the daemon in-process on ipc:// sockets in a temporary directory,
            publishes readings from a 3-regime room sensor (with rare anomalies), and
            prints what the daemon has learned each second.
            """
    )

    @Option(help: "How many readings to send.") var observations = 20_000
    @Option(help: "Readings per second.") var rate = 4_000.0
    @Option(help: "Daemon log level.") var logLevel: Logger.Level = .warning

    func run() throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        try LatentDaemon.Demo.run(observations: observations, rate: rate, logLevel: logLevel)
    }
}
