import ArgumentParser
import LatentDaemon

struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a configuration file; print each problem with its path.",
        discussion: "Exits 0 when the file is valid, 1 otherwise (e.g. `models[1].components: must be >= 1`)."
    )

    @Option(name: .long, help: "The YAML (or JSON) configuration file.")
    var config: String

    func run() throws {
        do {
            let parsed = try DaemonConfig.load(path: config)
            print("\(config): OK (\(parsed.models.count) model(s): \(parsed.models.map(\.name).joined(separator: ", ")))")
        } catch {
            print("\(error)")
            throw ExitCode(1)
        }
    }
}
