import Foundation
import Testing
@testable import LatentDaemon

/// The repository root, found from this file's location, so the tests read the
/// very files that ship.
let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The problems `parse` reports for `yaml`, as the lines `check-config` prints.
func configProblems(_ yaml: String) -> [String] {
    do {
        _ = try DaemonConfig.parse(yaml: yaml)
        return []
    } catch let error as ConfigError {
        return error.problems.map(\.description)
    } catch {
        return ["unexpected error type: \(error)"]
    }
}

/// A minimal valid GMM model entry; tests add or replace lines.
let minimalGMM = """
    models:
      - name: m
        topic: t
        kind: gmm
        dimensions: 2
        components: 3
    """

@Suite struct ConfigParsingTests {
    @Test func shippedConfigParsesAndValidatesClean() throws {
        for file in ["config/latentd.yaml", "config/latentd.systemd.yaml"] {
            let path = repositoryRoot.appendingPathComponent(file).path
            let config = try DaemonConfig.load(path: path)
            #expect(config.validate().isEmpty)
            #expect(config.models.map(\.name) == ["room1", "activity"])
            let room = try #require(config.model(named: "room1"))
            #expect(room.topic == "sensors/room1")
            #expect(room.kind == .gmm)
            #expect(room.dimensions == 2)
            #expect(room.components == 3)
            #expect(room.covariance == .full)
            // The HMM entry spells out every HMM key; these are what the README and
            // scripts/hmm_client_example.py rely on.
            let activity = try #require(config.model(named: "activity"))
            #expect(activity.topic == "sensors/activity")
            #expect(activity.kind == .hmm && activity.emission == .gaussian)
            #expect(activity.states == 3 && activity.dimensions == 2 && activity.covariance == .diag)
            #expect(activity.lag == 3 && activity.window == 32)
            #expect(activity.sequenceTimeout == .minutes(5) && activity.maxSequences == 100_000)
            #expect(activity.learning.hmmEstimator == .windowed && activity.learning.estimator == .soft)
            #expect(activity.learning.warmup == 300 && activity.learning.batch == 32)
            #expect(activity.initial == nil && activity.publish.posteriors)
            #expect(config.input.connect == ["tcp://127.0.0.1:5555"])
            #expect(config.output.bind == "tcp://127.0.0.1:5556")
            #expect(config.control.bind == "tcp://127.0.0.1:5557")
            #expect(config.input.maxMessageSize == 1_048_576)
        }
        let systemd = try DaemonConfig.load(path: repositoryRoot.appendingPathComponent("config/latentd.systemd.yaml").path)
        #expect(systemd.stateDir == "/var/lib/latentd")
    }

    @Test func defaultsFollowTheSpec() throws {
        let config = try DaemonConfig.parse(yaml: minimalGMM)
        #expect(config.stateDir == "./state")
        #expect(config.checkpoint == CheckpointConfig(interval: .seconds(30), keep: 3))
        #expect(config.input == InputConfig(connect: ["tcp://127.0.0.1:5555"], bind: [], rcvhwm: 100_000,
                                            maxMessageSize: 1 << 20))
        #expect(config.output == OutputConfig(bind: "tcp://127.0.0.1:5556", sndhwm: 100_000))
        #expect(config.control.bind == "tcp://127.0.0.1:5557")
        let m = config.models[0]
        #expect(m.format == .json && m.seed == 1 && m.covariance == .full)
        #expect(m.publish == PublishConfig(posteriors: true, paramsEvery: 1000))
        let l = m.learning
        #expect(l.mode == .stepwise && l.estimator == .soft && l.alpha == 0.6 && l.batch == 16)
        #expect(l.minStep == nil && l.halfLife == nil && l.effectiveMinStep == 0)
        #expect(l.warmup == 200 && l.nInit == 3 && l.regCovar == 1e-6 && l.averaging == false)
        #expect(m.initial == nil)
    }

    @Test func inputWithOnlyBindHasNoDefaultConnect() throws {
        let config = try DaemonConfig.parse(yaml: "input: {bind: [\"tcp://127.0.0.1:6000\"]}\n" + minimalGMM)
        #expect(config.input.connect.isEmpty)
        #expect(config.input.bind == ["tcp://127.0.0.1:6000"])
    }

    @Test func jsonDocumentIsAccepted() throws {
        let json = """
            {"state_dir": "/tmp/s", "checkpoint": {"interval": "500ms", "keep": 2},
             "input": {"connect": [], "bind": ["ipc:///tmp/in"], "rcvhwm": 10, "max_message_size": 4096},
             "models": [{"name": "a.b-c_1", "topic": "x", "kind": "gmm", "dimensions": 1, "components": 2,
                         "covariance": "spherical", "learning": {"half_life": 1000, "averaging": true},
                         "init": {"weights": [0.5, 0.5], "means": [[0], [1]], "covariances": [1, 2]}}]}
            """
        let config = try DaemonConfig.parse(yaml: json)
        #expect(config.stateDir == "/tmp/s")
        #expect(config.checkpoint.interval == .milliseconds(500))
        #expect(config.input.maxMessageSize == 4096)
        let m = config.models[0]
        #expect(m.learning.averaging)
        #expect(m.initial?.covariances(as: .spherical) == .spherical([1, 2]))
    }

    @Test func hmmModelsFromTheSpecParse() throws {
        let yaml = """
            models:
              - name: activity
                topic: seq/activity
                kind: hmm
                states: 2
                emission: gaussian
                dimensions: 3
                covariance: diag
                lag: 5
                window: 64
                sequence_timeout: 5m
                max_sequences: 100000
                learning: {mode: frozen, hmm_estimator: recursive, warmup: 10}
                init:
                  start: [0.5, 0.5]
                  transitions: [[0.9, 0.1], [0.2, 0.8]]
                  means: [[0, 0, 0], [1, 1, 1]]
                  covariances: [[1, 1, 1], [2, 2, 2]]
              - name: coin
                topic: seq/coin
                kind: hmm
                states: 2
                emission: categorical
                symbols: ["H", "T"]
                init:
                  start: [1, 0]
                  transitions: [[0.5, 0.5], [0.5, 0.5]]
                  emissions: [[0.9, 0.1], [0.1, 0.9]]
              - name: die
                topic: seq/die
                kind: hmm
                states: 3
                emission: categorical
                symbols: 6
            """
        let config = try DaemonConfig.parse(yaml: yaml)
        let activity = config.models[0]
        #expect(activity.lag == 5 && activity.sequenceTimeout == .minutes(5))
        #expect(activity.learning.hmmEstimator == .recursive)
        #expect(activity.initial?.covariances(as: .diag) == .diag([[1, 1, 1], [2, 2, 2]]))
        #expect(config.models[1].symbols == .names(["H", "T"]))
        #expect(config.models[2].symbols?.names == ["0", "1", "2", "3", "4", "5"])
        #expect(config.models[2].latentCount == 3)
    }

    @Test func halfLifeBecomesAPerStepFloor() throws {
        let config = try DaemonConfig.parse(yaml: minimalGMM + "\n    learning: {batch: 16, half_life: 16}")
        #expect(config.models[0].learning.effectiveMinStep == 0.5)
        let l = LearningConfig(batch: 10, halfLife: 10_000)
        #expect(abs(l.effectiveMinStep - (1 - pow(0.5, 0.001))) < 1e-15)
        #expect(LearningConfig(minStep: 0.01).effectiveMinStep == 0.01)
    }

    @Test func covariancesExpandToFullMatrices() {
        let diag = CovarianceValues.diag([[1, 2], [3, 4]])
        #expect(diag.fullMatrices(components: 2, dimensions: 2) == [[[1, 0], [0, 2]], [[3, 0], [0, 4]]])
        let tied = CovarianceValues.tied([[2, 1], [1, 2]])
        #expect(tied.fullMatrices(components: 2, dimensions: 2) == [[[2, 1], [1, 2]], [[2, 1], [1, 2]]])
        let spherical = CovarianceValues.spherical([5])
        #expect(spherical.fullMatrices(components: 1, dimensions: 2) == [[[5, 0], [0, 5]]])
    }
}

@Suite struct ConfigFingerprintTests {
    let base = ModelConfig(name: "m", topic: "a", kind: .gmm, dimensions: 2, components: 3)

    @Test func changesWithComponentsNotWithTopic() {
        var moreComponents = base
        moreComponents.components = 4
        #expect(moreComponents.fingerprint != base.fingerprint)

        var otherTopic = base
        otherTopic.topic = "b"
        otherTopic.format = .f64le
        otherTopic.publish.paramsEvery = 5
        #expect(otherTopic.fingerprint == base.fingerprint)
    }

    @Test func coversLearningSeedAndInit() {
        var alpha = base
        alpha.learning.alpha = 0.7
        var seed = base
        seed.seed = 2
        var initial = base
        initial.initial = InitConfig(weights: [1, 0, 0])
        var averaging = base
        averaging.learning.averaging = true
        let all = [base, alpha, seed, initial, averaging].map(\.fingerprint)
        #expect(Set(all).count == all.count)
    }

    @Test func explicitDefaultsAndEquivalentFloorsDoNotChangeIt() throws {
        let implicit = try DaemonConfig.parse(yaml: minimalGMM).models[0]
        let explicit = try DaemonConfig.parse(yaml: minimalGMM + "\n    seed: 1\n    learning: {alpha: 0.6}").models[0]
        #expect(implicit.fingerprint == explicit.fingerprint)
        #expect(implicit == explicit)

        var halfLife = base
        halfLife.learning.halfLife = 16  // batch 16: floor 0.5
        var minStep = base
        minStep.learning.minStep = 0.5
        #expect(halfLife.fingerprint == minStep.fingerprint)
    }

    @Test func isStableAcrossRuns() {
        // FNV-1a of a fixed text: pinned so an accidental change of rendering
        // (which would refuse every existing checkpoint) fails a test.
        #expect(fnv1a64("") == 0xcbf2_9ce4_8422_2325)
        #expect(fnv1a64("a") == 0xaf63_dc4c_8601_ec8c)
        #expect(base.fingerprintText.hasPrefix("latentd-model-fingerprint-v1\nkind=gmm\ndimensions=2\ncomponents=3\n"))
        #expect(DaemonConfig.fingerprint(of: base) == base.fingerprint)
    }
}
