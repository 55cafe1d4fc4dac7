import Foundation
import LatentCore
import Logging
import ZeroMQ

/// The daemon: one thread owns and polls every socket (libzmq sockets are not
/// thread-safe), routes input to the models, answers the control socket, and
/// drives checkpoints, the systemd watchdog and graceful shutdown.
public final class Daemon {
    public internal(set) var config: DaemonConfig
    let configPath: String?
    let logger: Logger
    let notifier: SystemdNotifier
    let signals: SignalPipe
    var hosts: [ModelHost] = []
    /// The hosts' topic prefixes, for `route` (set once the hosts are).
    var routes = TopicRoutes([])
    let checkpoints: CheckpointCoordinator
    let startedAt = Date()

    // Counters for `status`.
    var received = 0
    var disconnects = 0
    var reloads = 0
    var inputErrors: ErrorReporter
    /// Per model, the state marker at its last checkpoint (skip unchanged models).
    var checkpointMarkers: [String: Int] = [:]

    public init(config: DaemonConfig, configPath: String?, logger: Logger, signals: SignalPipe,
                notifier: SystemdNotifier = SystemdNotifier()) throws {
        self.config = config
        self.configPath = configPath
        self.logger = logger
        self.signals = signals
        self.notifier = notifier
        inputErrors = ErrorReporter(name: "input")
        let store: CheckpointStore
        do {
            store = try CheckpointStore(directory: config.stateDir, keep: config.checkpoint.keep)
        } catch {
            throw DaemonError("state_dir \(config.stateDir): \(error)")
        }
        checkpoints = CheckpointCoordinator(store: store, logger: logger)
        for model in config.models {
            switch model.kind {
            case .gmm: hosts.append(try MixtureHost(config: model))
            case .hmm where model.isCategorical: hosts.append(try HMMHost<CategoricalEmissions>(config: model))
            case .hmm: hosts.append(try HMMHost<GaussianEmissions>(config: model))
            }
        }
        routes = TopicRoutes(hosts.map(\.topicPrefix))
        try loadCheckpoints()
    }

    /// Restores each model from its newest valid checkpoint. A corrupt file is
    /// reported and the previous generation used; a checkpoint written for a
    /// different model configuration is refused, never silently mixed.
    func loadCheckpoints() throws {
        for host in hosts {
            let name = host.config.name
            let result: CheckpointLoadResult
            do { result = try checkpoints.store.loadNewest(model: name) } catch {
                throw DaemonError("model \(name): cannot read checkpoints: \(error)")
            }
            for rejected in result.rejected {
                logger.warning("model \(name): skipping checkpoint \(rejected.path): \(rejected.reason)")
            }
            guard let file = result.newest else { continue }
            let expected = host.config.fingerprint
            guard file.fingerprint == expected else {
                throw DaemonError("""
                    model \(name): checkpoint \(file.path) was written for a different configuration \
                    (fingerprint \(hex(file.fingerprint)), the config now gives \(hex(expected))); refusing to mix them. \
                    Restore the earlier model settings, or move \(name).*.ckpt out of \(config.stateDir) to start this model afresh.
                    """)
            }
            do { try host.restore(file.payload) } catch {
                throw DaemonError("model \(name): checkpoint \(file.path) does not decode: \(error)")
            }
            checkpointMarkers[name] = stateMarker(host)
            logger.info("model \(name): resumed from \(file.path) (version \(host.version), n=\(host.observations))")
        }
    }

    /// Snapshots of the models whose state changed since their last checkpoint
    /// (all of them when `force`).
    func snapshots(force: Bool) -> [CheckpointCoordinator.Snapshot] {
        var out: [CheckpointCoordinator.Snapshot] = []
        for host in hosts {
            let marker = stateMarker(host)
            if !force, checkpointMarkers[host.config.name] == marker { continue }
            checkpointMarkers[host.config.name] = marker
            out.append(.init(model: host.config.name, fingerprint: host.config.fingerprint,
                             version: host.version, payload: host.snapshot()))
        }
        return out
    }
}

/// Changes whenever a model's state does: every observation (learned or not,
/// `n` counts it) or parameter change moves it.
func stateMarker(_ host: ModelHost) -> Int { host.observations &* 1_000_003 &+ host.version }

func hex(_ v: UInt64) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: max(0, 16 - s.count)) + s
}
