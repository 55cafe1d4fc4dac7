import Foundation

/// SIGHUP: re-read the config file and apply what can change while running.
///
/// Reloadable: `checkpoint.interval` and each model's `publish` block. Anything
/// else (endpoints, models, learning settings) would need new sockets or would
/// change a model's meaning, so it is logged as needing a restart and ignored.
extension Daemon {
    func reload() {
        guard let configPath else { return }
        try? notifier.reloading()
        defer { try? notifier.ready() }
        let fresh: DaemonConfig
        do { fresh = try DaemonConfig.load(path: configPath) } catch {
            logger.error("reload: \(configPath) not applied: \(error)")
            return
        }
        var ignored: [String] = []
        if fresh.stateDir != config.stateDir { ignored.append("state_dir") }
        if fresh.checkpoint.keep != config.checkpoint.keep { ignored.append("checkpoint.keep") }
        if fresh.input != config.input { ignored.append("input") }
        if fresh.output != config.output { ignored.append("output") }
        if fresh.control != config.control { ignored.append("control") }
        if fresh.models.map(\.name) != config.models.map(\.name) { ignored.append("models (added, removed or reordered)") }
        var applied: [String] = []
        if fresh.checkpoint.interval != config.checkpoint.interval {
            config.checkpoint.interval = fresh.checkpoint.interval
            applied.append("checkpoint.interval")
        }
        for (i, host) in hosts.enumerated() {
            guard let new = fresh.model(named: host.config.name) else { continue }
            if new.publish != host.config.publish {
                host.updatePublish(new.publish)
                config.models[i].publish = new.publish
                applied.append("models[\(i)].publish")
            }
            var comparable = new
            comparable.publish = host.config.publish
            if comparable != host.config { ignored.append("models[\(i)] (other than publish)") }
        }
        reloads += 1
        logger.info("reload: applied \(applied.isEmpty ? "nothing" : applied.joined(separator: ", "))")
        if !ignored.isEmpty {
            logger.warning("reload: changes to \(ignored.joined(separator: ", ")) need a restart and were not applied")
        }
    }
}
