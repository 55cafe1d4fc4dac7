import Foundation
import Yams

/// The whole configuration file (SPEC §3).
///
/// Loading is two steps, both reporting problems by path: decoding (syntax,
/// types, unknown keys — see `ConfigDecoding.swift`) and `validate()` (values
/// and their relations — see `ConfigValidation.swift`). `load`/`parse` do both
/// and throw one `ConfigError` with everything found.
public struct DaemonConfig: Sendable, Hashable {
    /// YAML `state_dir`: where checkpoints live (`/var/lib/latentd` under systemd).
    /// A relative path is taken from the working directory, as the CLI user expects.
    public var stateDir: String
    public var checkpoint: CheckpointConfig
    public var input: InputConfig
    public var output: OutputConfig
    public var control: ControlConfig
    public var models: [ModelConfig]

    public init(
        stateDir: String = "./state", checkpoint: CheckpointConfig = CheckpointConfig(),
        input: InputConfig = InputConfig(), output: OutputConfig = OutputConfig(),
        control: ControlConfig = ControlConfig(), models: [ModelConfig] = []
    ) {
        self.stateDir = stateDir
        self.checkpoint = checkpoint
        self.input = input
        self.output = output
        self.control = control
        self.models = models
    }

    /// Reads, decodes and validates the file at `path`.
    /// - Throws: `ConfigError` with every problem found, one per line.
    public static func load(path: String) throws -> DaemonConfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(problems: [ConfigProblem(path: "", message: "cannot read \(path): \(readFailure(error))")])
        }
        return try parse(yaml: text)
    }

    /// Decodes YAML (or JSON, which is YAML) and, unless `validating` is false,
    /// validates it.
    /// - Throws: `ConfigError` with every problem found: the first hard decoding
    ///   error (after which nothing more can be read), all unknown keys, and,
    ///   when the document decoded, all validation problems.
    public static func parse(yaml: String, validating: Bool = true) throws -> DaemonConfig {
        let collector = UnknownKeyCollector()
        let config: DaemonConfig
        do {
            // An empty file decodes as an empty mapping: all defaults, no models
            // (which validation then reports), rather than a cryptic type error.
            let document = yaml.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? "{}" : yaml
            config = try YAMLDecoder().decode(
                DaemonConfig.self, from: document, userInfo: [.latentdUnknownKeys: collector])
        } catch {
            throw ConfigError(problems: collector.problems + [configProblem(from: error)])
        }
        let problems = collector.problems + (validating ? config.validate() : [])
        if !problems.isEmpty { throw ConfigError(problems: problems) }
        return config
    }

    /// The model named `name`, if any.
    public func model(named name: String) -> ModelConfig? {
        models.first { $0.name == name }
    }
}

/// `checkpoint:` — when state is written (SPEC §6).
public struct CheckpointConfig: Sendable, Hashable {
    /// Time between periodic checkpoints (also written on SIGTERM and on request).
    public var interval: ConfigDuration
    /// Generations kept per model, so a corrupt newest file has a fallback.
    public var keep: Int

    public init(interval: ConfigDuration = .seconds(30), keep: Int = 3) {
        self.interval = interval
        self.keep = keep
    }
}

/// `input:` — the SUB socket. Connect and bind can be combined.
public struct InputConfig: Sendable, Hashable {
    /// Endpoints the SUB socket connects to (producers bind).
    public var connect: [String]
    /// Endpoints the SUB socket binds (producers connect).
    public var bind: [String]
    /// ZMQ_RCVHWM: messages queued before libzmq drops.
    public var rcvhwm: Int
    /// YAML `max_message_size`, bytes: ZMQ_MAXMSGSIZE, larger messages are
    /// refused by libzmq before they reach the daemon (SPEC §7).
    public var maxMessageSize: Int

    /// The SPEC's loopback producer endpoint, used when the file says nothing
    /// about where input comes from.
    public static let defaultConnect = ["tcp://127.0.0.1:5555"]

    public init(
        connect: [String] = InputConfig.defaultConnect, bind: [String] = [],
        rcvhwm: Int = 100_000, maxMessageSize: Int = 1 << 20
    ) {
        self.connect = connect
        self.bind = bind
        self.rcvhwm = rcvhwm
        self.maxMessageSize = maxMessageSize
    }
}

/// `output:` — the PUB socket for posteriors, params and errors.
public struct OutputConfig: Sendable, Hashable {
    public var bind: String
    /// ZMQ_SNDHWM: messages queued per subscriber before libzmq drops.
    public var sndhwm: Int

    public init(bind: String = "tcp://127.0.0.1:5556", sndhwm: Int = 100_000) {
        self.bind = bind
        self.sndhwm = sndhwm
    }
}

/// `control:` — the REP socket for commands.
public struct ControlConfig: Sendable, Hashable {
    public var bind: String

    public init(bind: String = "tcp://127.0.0.1:5557") {
        self.bind = bind
    }
}

/// "No such file or directory" rather than Foundation's long NSError text.
private func readFailure(_ error: any Error) -> String {
    let nsError = error as NSError
    if let posix = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, posix.domain == NSPOSIXErrorDomain {
        return String(cString: strerror(Int32(posix.code)))
    }
    if nsError.domain == NSCocoaErrorDomain {
        switch nsError.code {
        case NSFileReadNoSuchFileError: return "no such file"
        case NSFileReadNoPermissionError: return "permission denied"
        case NSFileReadInapplicableStringEncodingError: return "not UTF-8 text"
        default: break
        }
    }
    return nsError.localizedDescription
}
