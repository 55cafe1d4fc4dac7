import ArgumentParser
import LatentDaemon
import Logging

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Watch latentd learn synthetic sensor streams (GMM and HMM) over real ZeroMQ sockets; ends by itself.",
        discussion: """
            Starts the daemon in-process on ipc:// sockets in a temporary directory,
            publishes readings from a 3-regime room sensor (with rare anomalies) for a
            GMM and, interleaved on another topic, one sequence per machine of machines
            switching between idle, running and fault for an HMM. It prints what the
            daemon has learned each second, then the learned regimes and how often the
            HMM's filtered, smoothed and Viterbi labels match the true regimes.
            """
    )

    @Option(help: "How many readings to send.") var observations = 20_000
    @Option(help: "Readings per second.") var rate = 4_000.0
    @Option(help: "Machines (HMM sequences) sending readings.") var machines = 8
    @Option(help: "Daemon log level.") var logLevel: Logger.Level = .warning

    func run() throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        try LatentDaemon.Demo.run(observations: observations, rate: rate, machines: machines, logLevel: logLevel)
    }
}
