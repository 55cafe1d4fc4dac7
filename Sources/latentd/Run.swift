import ArgumentParser
import Foundation
import LatentDaemon
import Logging

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the daemon in the foreground (logs to stderr).",
        discussion: """
            SIGTERM or SIGINT: stop reading, finish the message in hand, write a final
            checkpoint of every model, exit 0. SIGHUP: re-read the config and apply what
            can change while running (checkpoint.interval, each model's publish block).
            Under systemd (Type=notify) it reports READY=1 once sockets are bound and
            checkpoints loaded, and pings the watchdog.
            """
    )

    @Option(name: .long, help: "The YAML (or JSON) configuration file.")
    var config: String

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func run() throws {
        let logger = makeLogger(level: logLevel)
        let parsed: DaemonConfig
        do { parsed = try DaemonConfig.load(path: config) } catch {
            logger.critical("\(config): \(error)")
            throw ExitCode(1)
        }
        let signals = try SignalPipe()
        signals.installHandlers()
        do {
            let daemon = try Daemon(config: parsed, configPath: config, logger: logger, signals: signals)
            try daemon.run()
        } catch {
            logger.critical("\(error)")
            throw ExitCode(1)
        }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// Plain stderr logging: journald adds timestamps and the unit under systemd.
func makeLogger(level: Logger.Level) -> Logger {
    LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
    var logger = Logger(label: "latentd")
    logger.logLevel = level
    return logger
}
