import LatentCore

/// A Gaussian-mixture model in the daemon: parses its input, runs the stepwise
/// learner, and publishes posteriors and parameters.
///
/// Every buffer used per message (observations, responsibilities, the output
/// writer) lives here and is reused, so the steady state allocates nothing.
final class MixtureHost: ModelHost {
    private(set) var config: ModelConfig
    let settings: LearnerSettings
    let initial: GaussianMixture?
    let topicPrefix: [UInt8]
    /// The learner and the per-message buffers, in one stored property: `handle`
    /// makes one access to it per message. Six accesses to separate class
    /// properties cost a dynamic exclusivity check each, 5 % of the daemon's thread
    /// at one JSON observation per message (perf). The one that is left is not checked
    /// either: only the socket thread touches a host, and no access to `ingest`
    /// overlaps another (the check cost 117 instructions per message, callgrind).
    @exclusivity(unchecked) private var ingest: Ingest
    var learner: MixtureLearner {
        get { ingest.learner }
        set { ingest.learner = newValue }
    }
    private var errors: ErrorReporter
    /// Whether one-observation messages are held and learned together as a segment
    /// (`Ingest.hold`): the learner's state, and every posterior, are the same to the
    /// bit however rows are grouped. A row learned alone cost about 600 instructions
    /// more than in a segment, a ninth of a message (callgrind). Held rows are learned
    /// when the mini-batch they complete is full (so the update, and the parameters it
    /// publishes, come with the same message as before), before anything else this
    /// model handles, and at the end of every drain of the input (`flush`), so control
    /// requests, checkpoints and signals never see them. Their posteriors are written
    /// then, in order and before anything published after them; the daemon's sink holds
    /// a drain's output until its end anyway (`PublisherSink`), so they leave when they
    /// would have.
    var holdsRows = true
    private let parser: ObservationParser
    private let binary: BinaryObservationDecoder?
    private let posteriorTopic: [UInt8]
    private let paramsTopic: [UInt8]
    @exclusivity(unchecked) var writer = JSONWriter(capacity: 4096)  // as `ingest`
    static let unscored = MixtureObservation(scored: false, logLikelihood: 0, label: -1, parametersChanged: false)
    /// Observation count when params were last published (SPEC: every `params_every`).
    private var paramsPublishedAt = 0
    private var paramsPublishedVersion = 0
    /// Version carried over resets, so clients see it only ever increase.
    private var versionBase = 0

    static let maxObservationsPerMessage = 100_000

    init(config: ModelConfig) throws {
        self.config = config
        let (settings, initial) = try Self.learnerSetup(config)
        self.settings = settings
        self.initial = initial
        topicPrefix = Array(config.topic.utf8)
        ingest = Ingest(learner: MixtureLearner(settings: settings, initial: initial))
        errors = ErrorReporter(name: config.name)
        parser = ObservationParser(dimensions: settings.dimensions, maxObservationsPerMessage: Self.maxObservationsPerMessage)
        switch config.format {
        case .json: binary = nil
        case .f64le: binary = BinaryObservationDecoder(format: .f64le, dimensions: settings.dimensions, maxObservationsPerMessage: Self.maxObservationsPerMessage)
        case .f32le: binary = BinaryObservationDecoder(format: .f32le, dimensions: settings.dimensions, maxObservationsPerMessage: Self.maxObservationsPerMessage)
        }
        ingest.held = [Double](repeating: 0, count: MixtureLearner.maximumSegmentRows * settings.dimensions)
        posteriorTopic = Array("posterior/\(config.name)".utf8)
        paramsTopic = Array("params/\(config.name)".utf8)
        ingest.values.reserveCapacity(64 * settings.dimensions)
        ingest.resp = [Double](repeating: 0, count: 64 * settings.components)
    }

    /// Translates a validated model config into learner settings and `init` parameters.
    static func learnerSetup(_ c: ModelConfig) throws -> (LearnerSettings, GaussianMixture?) {
        let type = c.covariance
        guard let k = c.components, let d = c.dimensions else {
            throw DaemonError("model \(c.name): a gmm needs components, dimensions and a covariance type")
        }
        var s = LearnerSettings(components: k, dimensions: d, covarianceType: type)
        s.estimator = c.learning.estimator == .hard ? .hard : .soft
        s.frozen = c.learning.mode == .frozen
        s.alpha = c.learning.alpha
        s.batch = c.learning.batch
        s.minStep = c.learning.effectiveMinStep
        s.warmup = c.learning.warmup
        s.nInit = c.learning.nInit
        s.averaging = c.learning.averaging
        s.seed = c.seed
        s.mStep = MStepOptions(regCovar: c.learning.regCovar)
        guard let i = c.initial, let w = i.weights, let means = i.means, let cov = i.covariances else {
            return (s, nil)
        }
        do {
            let model = try GaussianMixture(
                weights: w, means: means.flatMap { $0 }, covariances: cov.flattened, covarianceType: type)
            return (s, model)
        } catch {
            throw DaemonError("models[\(c.name)].init: \(error)")
        }
    }

    var version: Int { versionBase + learner.version }
    var observations: Int { learner.observations }
    var rejected: Int { errors.count }

    func reject(_ reason: String, topic: UnsafeRawBufferPointer, sink: OutputSink, now: Double) {
        flush(sink: sink)
        errors.report(reason, inputTopic: topic, to: sink, now: now)
    }

    func handle(topic: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, sink: OutputSink, now: Double) {
        let message: ParsedMessage
        do {
            message = try ingest.decode(payload, binary: binary, parser: parser)
        } catch {
            flush(sink: sink)
            errors.report(error.description, inputTopic: topic, to: sink, now: now)
            return
        }
        if holdsRows && ingest.hold(message, payload: payload, posterior: config.publish.posteriors) {
            if ingest.heldRows == ingest.heldRoom { flush(sink: sink) }
            return
        }
        flush(sink: sink)
        let changed = ingest.learnDecoded(message, scoring: config.publish.posteriors)
        publish(message, changed: changed, payload: payload, sink: sink)
    }

    /// Learns the held rows (`holdsRows`). The daemon calls it at the end of every
    /// drain of the input.
    func flush(sink: OutputSink) {
        guard ingest.heldRows > 0 else { return }
        let posteriors = config.publish.posteriors
        let changed = ingest.learnHeld(scoring: posteriors)
        if posteriors { publishHeldPosteriors(sink: sink) }
        publishParamsIfDue(changed, sink: sink)
    }

    /// The posteriors of the rows `flush` just learned, one message each: row i's
    /// responsibilities and outcome, its message's id (kept by `hold`), and the
    /// observation count after it.
    private func publishHeldPosteriors(sink: OutputSink) {
        let rows = ingest.heldMessages.count, first = ingest.learner.observations - rows
        ingest.heldIDs.withUnsafeBytes { ids in
            for i in 0..<rows {
                publishPosterior(ingest.heldMessages[i], payload: ids, observations: first + i + 1, firstRow: i, sink: sink)
            }
        }
    }

    /// Writes and publishes the posterior of `message`, whose rows are `firstRow`...
    /// of the responsibilities and outcomes the learner just produced.
    private func publishPosterior(_ message: ParsedMessage, payload: UnsafeRawBufferPointer, observations: Int,
                                  firstRow: Int, sink: OutputSink) {
        let k = settings.components, rows = firstRow..<(firstRow + message.count)
        var w = JSONWriter(capacity: 0)  // empty, no allocation: swapped with `writer`
        swap(&w, &writer)
        ingest.resp.withUnsafeBufferPointer { r in
            ingest.outcomes.withUnsafeBufferPointer { o in
                Self.writePosterior(message, payload: payload, model: config.name, observations: observations, components: k,
                                    resp: UnsafeBufferPointer(rebasing: r[(rows.lowerBound * k)..<(rows.upperBound * k)]),
                                    outcomes: UnsafeBufferPointer(rebasing: o[rows]), into: &w)
            }
        }
        w.withBytes { sink.publish(topic: posteriorTopic, body: $0) }
        swap(&w, &writer)
    }

    /// The parser for `ParseAhead`: JSON models only (binary decoding costs less
    /// than handing a payload over).
    var jsonParser: ObservationParser? { binary == nil ? parser : nil }

    /// `handle` for a payload parsed by `ParseAhead`: the same learning and output.
    func handle(parsed job: ParseAhead.Job, sink: OutputSink, now: Double) {
        flush(sink: sink)
        switch job.result {
        case .failure(let error):
            job.topic.withUnsafeBytes { errors.report(error.description, inputTopic: $0, to: sink, now: now) }
        case .success(let message):
            let changed = job.values.withUnsafeBufferPointer { ingest.learn($0, message, scoring: config.publish.posteriors) }
            job.payload.withUnsafeBytes { publish(message, changed: changed, payload: $0, sink: sink) }
        }
    }

    private func publish(_ message: ParsedMessage, changed: Bool, payload: UnsafeRawBufferPointer, sink: OutputSink) {
        if config.publish.posteriors {
            publishPosterior(message, payload: payload, observations: ingest.learner.observations, firstRow: 0, sink: sink)
        }
        publishParamsIfDue(changed, sink: sink)
    }

    private func publishParamsIfDue(_ changed: Bool, sink: OutputSink) {
        if changed && (paramsPublishedVersion == 0 || ingest.learner.observations - paramsPublishedAt >= config.publish.paramsEvery) {
            publishParams(sink: sink)
        }
    }

    func publishParams(sink: OutputSink) {
        guard learner.model != nil else { return }
        writer.reset()
        writeParams(into: &writer)
        writer.withBytes { sink.publish(topic: paramsTopic, body: $0) }
        paramsPublishedAt = learner.observations
        paramsPublishedVersion = version
    }

    func updatePublish(_ publish: PublishConfig) {
        assert(ingest.heldRows == 0, "rows are held only within a drain of the input")
        config.publish = publish
    }

    func reset() {
        ingest.heldRows = 0  // none outside a drain; forgotten with the rest in any case
        versionBase = version
        learner = MixtureLearner(settings: settings, initial: initial)
        if initial != nil { versionBase = versionBase + 1 - learner.version }  // a new parameter set: +1
        paramsPublishedVersion = 0
    }

    static let snapshotTag = "mixture-host-1"

    func snapshot() -> [UInt8] {
        assert(ingest.heldRows == 0, "rows are held only within a drain of the input")
        var w = ByteWriter(reservingCapacity: 4096)
        w.write(Self.snapshotTag)
        w.write(versionBase)
        w.write(paramsPublishedAt)
        w.write(paramsPublishedVersion)
        learner.encode(into: &w)
        return w.bytes
    }

    func restore(_ payload: [UInt8]) throws {
        var r = ByteReader(payload)
        let tag = try r.readString()
        guard tag == Self.snapshotTag else { throw DecodingFailure("not a Gaussian-mixture checkpoint (\"\(tag)\")") }
        let base = try r.readInt(), at = try r.readInt(), publishedVersion = try r.readInt()
        let restored = try MixtureLearner(settings: settings, decoding: &r)
        guard r.isAtEnd else { throw DecodingFailure("trailing bytes after the learner state") }
        versionBase = base
        paramsPublishedAt = at
        paramsPublishedVersion = publishedVersion
        learner = restored
        ingest.heldRows = 0
    }
}

extension MixtureHost {
    /// `status`'s `heap_bytes`: the learner's storage (`MixtureLearner.heapBytes`), the
    /// buffers of the message in progress, the output writers and the `init` model.
    var heapBytes: Int {
        learner.heapBytes + ingest.values.storageBytes + ingest.resp.storageBytes + ingest.outcomes.storageBytes
            + ingest.held.storageBytes + ingest.heldMessages.storageBytes + ingest.heldIDs.storageBytes
            + writer.capacity + errors.heapBytes + (initial?.heapBytes ?? 0)
    }

    struct Ingest {
        var learner: MixtureLearner
        var values: [Double] = []
        var resp: [Double] = []
        /// Per-observation outcomes of the message in progress (grown, never shrunk).
        var outcomes: [MixtureObservation] = []
        /// One-observation messages held for one segment (`MixtureHost.holdsRows`):
        /// `heldRows` rows of `held`, learned when there are `heldRoom`.
        var held: [Double] = []
        var heldRows = 0
        var heldRoom = 0
        /// With posteriors on, each held row's message, its id moved into `heldIDs`.
        var heldMessages: [ParsedMessage] = []
        var heldIDs: [UInt8] = []

        /// Decodes a payload into `values`.
        mutating func decode(
            _ payload: UnsafeRawBufferPointer, binary: BinaryObservationDecoder?, parser: ObservationParser
        ) throws(ObservationError) -> ParsedMessage {
            if let binary { return try binary.decode(payload, into: &values) }
            return try parser.parse(payload, into: &values)
        }

        /// Learns from the decoded rows in `values` (with `scoring`, the posteriors into
        /// `resp` and one outcome per row: only for publishing them). Returns whether
        /// the parameters changed.
        mutating func learnDecoded(_ message: ParsedMessage, scoring: Bool) -> Bool {
            // Moved out for the call: reading `values` while `learn` mutates the rest of
            // the struct retained and released its buffer for every message.
            var xs: [Double] = []
            swap(&xs, &values)
            defer { swap(&xs, &values) }
            return xs.withUnsafeBufferPointer { learn($0, message, scoring: scoring) }
        }

        /// Keeps a learned one-observation message's row for a later segment; false,
        /// with nothing kept, when it must be learned now (a batch, `learn: false`, a
        /// learner that takes no segments: warming up, frozen, spherical or tied, or at
        /// the last row of its mini-batch).
        /// With `posterior`, the message (and the bytes of its id: `payload` is gone by
        /// the time the row is learned) is kept for writing its posterior then.
        mutating func hold(_ message: ParsedMessage, payload: UnsafeRawBufferPointer, posterior: Bool) -> Bool {
            guard message.count == 1, message.learn else { return false }
            if heldRows == 0 {
                heldRoom = learner.segmentRoom
                guard heldRoom >= 2 else { return false }
                heldMessages.removeAll(keepingCapacity: true)
                heldIDs.removeAll(keepingCapacity: true)
            }
            let d = learner.settings.dimensions, at = heldRows * d
            held.withUnsafeMutableBufferPointer { h in
                values.withUnsafeBufferPointer { v in (h.baseAddress! + at).update(from: v.baseAddress!, count: d) }
            }
            if posterior {
                var kept = message
                if let id = message.idRange {
                    let start = heldIDs.count
                    heldIDs.append(contentsOf: UnsafeRawBufferPointer(rebasing: payload[id]).assumingMemoryBound(to: UInt8.self))
                    kept.idRange = start..<heldIDs.count
                }
                kept.seq = nil  // a range into `payload`; a mixture's posterior does not use it
                heldMessages.append(kept)
            }
            heldRows += 1
            return true
        }

        /// Learns the held rows as one segment. True if the parameters changed, which
        /// only the row that completes the mini-batch can do.
        mutating func learnHeld(scoring: Bool) -> Bool {
            guard heldRows > 0 else { return false }
            var message = ParsedMessage()
            message.count = heldRows
            heldRows = 0
            var xs: [Double] = []
            swap(&xs, &held)
            defer { swap(&xs, &held) }
            return xs.withUnsafeBufferPointer { learn($0, message, scoring: scoring) }
        }

        /// Learns from the rows of a parsed message (`xs`, row-major).
        mutating func learn(_ xs: UnsafeBufferPointer<Double>, _ message: ParsedMessage, scoring: Bool) -> Bool {
            let k = learner.settings.components, n = message.count
            if resp.count < n * k { resp = [Double](repeating: 0, count: n * k) }
            if outcomes.count < n { outcomes = [MixtureObservation](repeating: MixtureHost.unscored, count: max(n, 64)) }
            return resp.withUnsafeMutableBufferPointer { r in
                outcomes.withUnsafeMutableBufferPointer { out in
                    learner.observe(xs.baseAddress!, count: n, learn: message.learn,
                                    responsibilities: r.baseAddress!, outcomes: out.baseAddress!, scoring: scoring)
                }
            }
        }
    }
}

/// A failure explained in one sentence (start-up, control clients, tools).
public struct DaemonError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension NumericTree {
    /// All numbers in row-major order.
    var flattened: [Double] {
        switch self {
        case .number(let x): return [x]
        case .list(let items): return items.flatMap(\.flattened)
        }
    }
}
