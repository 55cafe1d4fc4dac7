import Foundation
import Testing
@testable import LatentDaemon

/// Each kind of mistake must come out as one line with the exact path, the
/// way `latentd check-config` prints it.
@Suite struct ConfigDecodingErrorTests {
    @Test func unknownKeysAtAnyLevelNameTheirPath() {
        #expect(configProblems(minimalGMM + "\n    learning: {alpah: 0.7}") == ["models[0].learning.alpah: unknown key"])
        #expect(configProblems("stat_dir: x\n" + minimalGMM) == ["stat_dir: unknown key"])
        #expect(configProblems(minimalGMM + "\n    compnents: 3") == ["models[0].compnents: unknown key"])
        #expect(configProblems("input: {conect: []}\n" + minimalGMM) == ["input.conect: unknown key"])
        #expect(configProblems(minimalGMM + "\n    init: {wieghts: [1]}").first == "models[0].init.wieghts: unknown key")
    }

    @Test func anchorsAndMergeKeysAreCheckedToo() throws {
        let yaml = """
            models:
              - &base {name: a, topic: t, kind: gmm, dimensions: 2, components: 3, learning: {alpha: 0.7}}
              - <<: *base
                name: b
            """
        let config = try DaemonConfig.parse(yaml: yaml)
        #expect(config.models[1].name == "b" && config.models[1].learning.alpha == 0.7)
        #expect(configProblems(yaml + "\n    learning: {alpah: 1}") == ["models[1].learning.alpah: unknown key"])
    }

    @Test func allUnknownKeysAreReportedTogether() {
        let problems = configProblems("stat_dir: x\noutput: {bnd: a}\n" + minimalGMM + "\n    learning: {alpah: 0.7}")
        #expect(problems == ["stat_dir: unknown key", "output.bnd: unknown key", "models[0].learning.alpah: unknown key"])
    }

    @Test func typeMismatch() {
        #expect(configProblems(minimalGMM.replacingOccurrences(of: "components: 3", with: "components: three"))
            == ["models[0].components: expected an integer"])
        #expect(configProblems(minimalGMM + "\n    learning: {alpha: fast}") == ["models[0].learning.alpha: expected a number"])
        #expect(configProblems(minimalGMM + "\n    publish: {posteriors: maybe}")
            == ["models[0].publish.posteriors: expected true or false"])
        #expect(configProblems("input: {connect: tcp://x:1}\n" + minimalGMM) == ["input.connect: expected a list"])
        #expect(configProblems(minimalGMM + "\n    init: {means: [[0, 0], [1, x]]}")
            == ["models[0].init.means[1][1]: expected a number"])
    }

    @Test func missingKey() {
        #expect(configProblems(minimalGMM.replacingOccurrences(of: "    topic: t\n", with: ""))
            == ["models[0].topic: required key is missing"])
        #expect(configProblems(minimalGMM.replacingOccurrences(of: "    kind: gmm\n", with: ""))
            == ["models[0].kind: required key is missing"])
    }

    @Test func badDuration() {
        let hint = #"expected a duration like "500ms", "30s", "5m" or "1h""#
        #expect(configProblems("checkpoint: {interval: 30}\n" + minimalGMM) == [#"checkpoint.interval: \#(hint) (got "30")"#])
        #expect(configProblems("checkpoint: {interval: 30 s}\n" + minimalGMM) == [#"checkpoint.interval: \#(hint) (got "30 s")"#])
        #expect(configProblems("checkpoint: {interval: 10d}\n" + minimalGMM) == [#"checkpoint.interval: \#(hint) (got "10d")"#])
    }

    @Test func badEnumValue() {
        #expect(configProblems(minimalGMM.replacingOccurrences(of: "kind: gmm", with: "kind: gmx"))
            == [#"models[0].kind: must be one of gmm, hmm (got "gmx")"#])
        #expect(configProblems(minimalGMM + "\n    covariance: diagonal")
            == [#"models[0].covariance: must be one of full, diag, spherical, tied (got "diagonal")"#])
        #expect(configProblems(minimalGMM + "\n    learning: {hmm_estimator: forward}")
            == [#"models[0].learning.hmm_estimator: must be one of windowed, recursive (got "forward")"#])
    }

    @Test func yamlSyntaxAndUnreadableFiles() {
        let problems = configProblems("models: [\n  - name: x")
        #expect(problems.count == 1)
        #expect(problems.first?.hasPrefix("invalid YAML at line ") == true)
        #expect(configProblems("models: 3") == ["models: expected a list"])
        #expect(configProblems("- a\n- b") == ["expected a mapping (key: value)"])
        #expect(configProblems("") == ["models: at least one model is required"])

        #expect(throws: ConfigError.self) { try DaemonConfig.load(path: "/nonexistent/latentd.yaml") }
        do {
            _ = try DaemonConfig.load(path: "/nonexistent/latentd.yaml")
        } catch {
            #expect("\(error)".hasPrefix("cannot read /nonexistent/latentd.yaml: "))
            #expect(!"\(error)".contains("\n"))
        }
    }
}

@Suite struct ConfigValueProblemTests {
    @Test func sizesAndLearningRanges() {
        let yaml = minimalGMM.replacingOccurrences(of: "components: 3", with: "components: 0")
        #expect(configProblems(yaml) == ["models[0].components: must be >= 1"])
        #expect(configProblems(minimalGMM + "\n    learning: {alpha: 0.5}") == ["models[0].learning.alpha: must be in (0.5, 1]"])
        #expect(configProblems(minimalGMM + "\n    learning: {batch: 0}") == ["models[0].learning.batch: must be >= 1"])
        #expect(configProblems(minimalGMM + "\n    learning: {warmup: 2}")
            == ["models[0].learning.warmup: must be >= components (3)"])
        #expect(configProblems(minimalGMM + "\n    learning: {min_step: 1}") == ["models[0].learning.min_step: must be in [0, 1)"])
        #expect(configProblems(minimalGMM + "\n    learning: {half_life: 0}") == ["models[0].learning.half_life: must be > 0"])
        #expect(configProblems(minimalGMM + "\n    learning: {min_step: 0.1, half_life: 100}")
            == ["models[0].learning.half_life: cannot be combined with min_step (they are two ways to say the same)"])
        #expect(configProblems(minimalGMM + "\n    learning: {n_init: 0, reg_covar: -1}")
            == ["models[0].learning.n_init: must be >= 1", "models[0].learning.reg_covar: must be >= 0"])
    }

    @Test func daemonLevelProblems() {
        #expect(configProblems("checkpoint: {keep: 0}\n" + minimalGMM) == ["checkpoint.keep: must be >= 1"])
        #expect(configProblems("input: {connect: [], bind: []}\n" + minimalGMM)
            == ["input: at least one of connect or bind must be non-empty"])
        #expect(configProblems("output: {bind: \"\"}\n" + minimalGMM) == ["output.bind: must not be empty"])
        #expect(configProblems("control: {bind: \"localhost:5557\"}\n" + minimalGMM)
            == [#"control.bind: must be a ZeroMQ endpoint like tcp://127.0.0.1:5555 (got "localhost:5557")"#])
        #expect(configProblems("control: {bind: \"tcp://127.0.0.1:5556\"}\n" + minimalGMM)
            == ["control.bind: same endpoint as output.bind"])
        #expect(configProblems("state_dir: x") == ["models: at least one model is required"])
    }

    @Test func namesAreCheckedAndUnique() {
        let two = minimalGMM + "\n" + minimalGMM.replacingOccurrences(of: "models:\n", with: "")
        #expect(configProblems(two) == [#"models[1].name: duplicate of models[0].name ("m")"#])
        #expect(configProblems(minimalGMM.replacingOccurrences(of: "name: m", with: "name: \"a b\""))
            == [#"models[0].name: must use only A-Z a-z 0-9 _ . - (got "a b")"#])
    }

    @Test func kindSpecificKeysOnTheWrongKind() {
        #expect(configProblems(minimalGMM + "\n    states: 3") == ["models[0].states: only for kind hmm"])
        // Written with its default value, still the wrong kind.
        #expect(configProblems(minimalGMM + "\n    window: 64") == ["models[0].window: only for kind hmm"])
        #expect(configProblems(minimalGMM + "\n    learning: {hmm_estimator: windowed}")
            == ["models[0].learning.hmm_estimator: only for kind hmm"])
        let hmm = """
            models:
              - {name: h, topic: t, kind: hmm, states: 2, dimensions: 1, components: 2, covariance: tied}
              - {name: c, topic: t, kind: hmm, states: 2, emission: categorical, dimensions: 1, covariance: full}
              - {name: s, topic: t, kind: hmm, states: 2, symbols: 3, dimensions: 1}
              - {name: n, topic: t, kind: hmm, states: 2, emission: categorical}
            """
        #expect(configProblems(hmm) == [
            "models[0].components: only for kind gmm",
            "models[0].covariance: tied is only for kind gmm",
            "models[1].dimensions: not used with emission categorical",
            "models[1].covariance: not used with emission categorical",
            "models[1].symbols: required for emission categorical",
            "models[2].symbols: only for emission categorical",
            "models[3].symbols: required for emission categorical",
        ])
    }

    @Test func frozenRequiresInit() {
        #expect(configProblems(minimalGMM + "\n    learning: {mode: frozen}")
            == ["models[0].init: required when learning.mode is frozen"])
    }

    @Test func initShapesAndValues() {
        let gmm = """
            models:
              - name: g
                topic: t
                kind: gmm
                dimensions: 2
                components: 2
                init:
                  weights: [0.5, 0.4]
                  means: [[0, 0], [1]]
                  covariances: [[[1, 2], [2, 1]], [[1, 0.5], [0.4, 1]]]
            """
        #expect(configProblems(gmm) == [
            "models[0].init.weights: must sum to 1 (sum is 0.9)",
            "models[0].init.means[1]: must have 2 numbers (got 1)",
            "models[0].init.covariances[0]: must be positive definite",
            "models[0].init.covariances[1]: must be symmetric",
        ])
        let tied = gmm.replacingOccurrences(of: "components: 2", with: "components: 2\n    covariance: tied")
            .replacingOccurrences(of: "[0.5, 0.4]", with: "[0.5, 0.5]")
            .replacingOccurrences(of: "[[0, 0], [1]]", with: "[[0, 0], [1, 1]]")
        #expect(configProblems(tied) == ["models[0].init.covariances: must be one 2×2 matrix (covariance tied)"])
        let missing = minimalGMM + "\n    init: {weights: [1, 0, 0], start: [1]}"
        #expect(configProblems(missing) == [
            "models[0].init.start: only for kind hmm",
            "models[0].init.means: required in init for kind gmm",
            "models[0].init.covariances: required in init for kind gmm",
        ])
        let diag = minimalGMM + """

                covariance: diag
                init: {weights: [0.2, 0.3, 0.5], means: [[0, 0], [1, 1], [2, 2]], covariances: [[1, 1], [1, 0], [1, 1]]}
            """
        #expect(configProblems(diag) == ["models[0].init.covariances[1][1]: must be a variance > 0"])
    }

    @Test func hmmInitChecks() {
        let yaml = """
            models:
              - name: c
                topic: t
                kind: hmm
                states: 2
                emission: categorical
                symbols: ["H", "T", "H"]
                init:
                  start: [1, 0]
                  transitions: [[0.5, 0.5], [0.7, 0.2]]
                  emissions: [[1, 0, 0], [0.5, 0.5]]
                  means: [[0], [1]]
            """
        #expect(configProblems(yaml) == [
            #"models[0].symbols[2]: duplicate of models[0].symbols[0] ("H")"#,
            "models[0].init.transitions[1]: must sum to 1 (sum is 0.8999999999999999)",
            "models[0].init.means: not used with emission categorical",
            "models[0].init.emissions[1]: must have 3 entries (got 2)",
        ])
    }

    @Test func everyProblemIsReportedAtOnce() {
        let yaml = """
            checkpoint: {keep: 0, interval: 0s}
            models:
              - {name: a, topic: t, kind: gmm, dimensions: 0, components: 3}
              - {name: a, topic: t, kind: gmm, dimensions: 2, components: 0, learning: {alpha: 2, averaging: true}}
            """
        let problems = configProblems(yaml)
        #expect(problems == [
            "checkpoint.interval: must be > 0",
            "checkpoint.keep: must be >= 1",
            "models[0].dimensions: must be >= 1",
            #"models[1].name: duplicate of models[0].name ("a")"#,
            "models[1].components: must be >= 1",
            "models[1].learning.alpha: must be in (0.5, 1]",
        ])
        do {
            _ = try DaemonConfig.parse(yaml: yaml)
        } catch let error as ConfigError {
            #expect(error.description == problems.joined(separator: "\n"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func validateWorksOnConfigsBuiltInCode() {
        var model = ModelConfig(name: "m", topic: "t", kind: .gmm, dimensions: 2, components: 2, lag: 3)
        let config = DaemonConfig(models: [model])
        #expect(config.validate().map(\.description) == ["models[0].lag: only for kind hmm"])
        model.lag = 0
        #expect(DaemonConfig(models: [model]).validate().isEmpty)
    }
}

@Suite struct ConfigDurationTests {
    @Test func parsesUnits() throws {
        #expect(try ConfigDuration.parse("500ms").get() == .milliseconds(500))
        #expect(try ConfigDuration.parse("30s").get() == .seconds(30))
        #expect(try ConfigDuration.parse("5m").get() == .minutes(5))
        #expect(try ConfigDuration.parse("1h").get() == .hours(1))
        #expect(try ConfigDuration.parse("1.5s").get() == .milliseconds(1500))
        #expect(try ConfigDuration.parse("0.1s").get().milliseconds == 100)
        #expect(ConfigDuration.seconds(30).duration == .seconds(30))
    }

    @Test func refusesNonDurations() {
        for text in ["30", "", "s", "-1s", "1.s", ".5s", "1e3ms", "5 minutes", "99999999999999999999h"] {
            #expect((try? ConfigDuration.parse(text).get()) == nil, "\(text)")
        }
        if case .failure(let error) = ConfigDuration.parse("0.5ms") {
            #expect(error.reason == "must be a whole number of milliseconds")
        } else {
            Issue.record("0.5ms accepted")
        }
    }

    @Test func printsTheWayUsersWriteIt() {
        #expect(ConfigDuration.milliseconds(90_000).description == "90s")
        #expect(ConfigDuration.minutes(5).description == "5m")
        #expect(ConfigDuration.milliseconds(1500).description == "1500ms")
        #expect(ConfigDuration.milliseconds(0).description == "0ms")
    }
}
