import LatentCore

/// A hidden Markov model in the daemon: one model shared by many live
/// sequences, each keyed by `seq` (default: the message topic), filtered as it
/// arrives, smoothed `lag` steps later, decoded by Viterbi when it ends (`end`,
/// `reset`, `sequence_timeout`, or eviction at `max_sequences`).
final class HMMHost<E: DaemonEmissions>: ModelHost {
    private(set) var config: ModelConfig
    let settings: HMMLearnerSettings
    let initial: HiddenMarkovModel<E>?
    let topicPrefix: [UInt8]
    // The state every message touches is not checked for exclusive access at run time
    // (`@exclusivity(unchecked)`): only the socket thread touches a host, and no access
    // overlaps another. The checks were about 2,400 instructions of a 20,000-instruction
    // message (callgrind, Gaussian N=4 with posteriors), nine or more per message.
    @exclusivity(unchecked) var learner: HMMLearner<E>
    @exclusivity(unchecked) var table = SequenceTable()
    var errors: ErrorReporter
    private let parser: ObservationParser
    private let binary: BinaryObservationDecoder?
    /// Categorical HMMs: symbol names by index (for `score` and the parser).
    let symbolNames: [String]?
    @exclusivity(unchecked) private var values: [Double] = []
    @exclusivity(unchecked) private var indices: [Int32] = []
    @exclusivity(unchecked) var filtered: [Double] = []
    @exclusivity(unchecked) var smoothed: [Double] = []
    @exclusivity(unchecked) var outcomes: [HMMObservation] = []
    @exclusivity(unchecked) var writer = JSONWriter(capacity: 4096)
    let posteriorTopic: [UInt8]
    let viterbiTopic: [UInt8]
    let paramsTopic: [UInt8]
    @exclusivity(unchecked) var paramsPublishedAt = 0
    @exclusivity(unchecked) var paramsPublishedVersion = 0
    var versionBase = 0
    /// Sequences ended, by cause (status).
    var ended = 0
    var evicted = 0
    var timedOut = 0
    let timeout: Double
    /// Swapped into a freed slot, so the table never holds a dead sequence's buffers.
    let placeholder: HMMSequence

    /// `status`'s `heap_bytes`: the learner's storage (`HMMLearner.heapBytes`), the
    /// sequence table's arrays and `sequences`, every slot's storage
    /// (`SequenceTable.sequenceBytes().all`), the per-message buffers, the output
    /// writers and the `init` model.
    func heapBytes(sequences: Int) -> Int {
        learner.heapBytes + table.heapBytes + sequences + values.storageBytes + indices.storageBytes
            + filtered.storageBytes + smoothed.storageBytes + outcomes.storageBytes + writer.capacity
            + errors.heapBytes + (initial?.heapBytes ?? 0)
    }

    init(config: ModelConfig) throws {
        self.config = config
        settings = try config.hmmSettings()
        initial = try config.hmmInitial(E.self)
        topicPrefix = Array(config.topic.utf8)
        learner = HMMLearner(settings: settings, initial: initial)
        errors = ErrorReporter(name: config.name)
        let limit = MixtureHost.maxObservationsPerMessage
        if config.isCategorical, let symbols = config.symbols {
            symbolNames = symbols.names
            parser = ObservationParser(symbols: symbols.names, maxObservationsPerMessage: limit)
        } else {
            symbolNames = nil
            parser = ObservationParser(dimensions: settings.shape.observationWidth, maxObservationsPerMessage: limit,
                                       acceptsSequenceKeys: true)
        }
        switch config.format {
        case .json: binary = nil
        case .f64le: binary = BinaryObservationDecoder(format: .f64le, dimensions: settings.shape.observationWidth, maxObservationsPerMessage: limit)
        case .f32le: binary = BinaryObservationDecoder(format: .f32le, dimensions: settings.shape.observationWidth, maxObservationsPerMessage: limit)
        }
        posteriorTopic = Array("posterior/\(config.name)".utf8)
        viterbiTopic = Array("viterbi/\(config.name)".utf8)
        paramsTopic = Array("params/\(config.name)".utf8)
        timeout = config.sequenceTimeout.seconds
        placeholder = HMMSequence(states: settings.states, lag: 0)
        filtered = [Double](repeating: 0, count: 64 * settings.states)
        smoothed = filtered
        outcomes = [HMMObservation](repeating: HMMObservation(), count: 64)
    }

    var version: Int { versionBase + learner.version }
    var observations: Int { learner.observations }
    var rejected: Int { errors.count }

    func reject(_ reason: String, topic: UnsafeRawBufferPointer, sink: OutputSink, now: Double) {
        errors.report(reason, inputTopic: topic, to: sink, now: now)
    }

    // The per-message path is specialized for both emission types: the daemon holds
    // hosts as `any ModelHost`, so a generic class's methods otherwise run unspecialized,
    // with run-time metadata lookups (`HMMLearner<E>`'s alone about 330 instructions per
    // message). `handle`, `observe` and `writePosterior` together: 15,123 -> 14,592
    // instructions per Gaussian message (scripts/callgrind_daemon.py --shape hmm).
    @_specialize(exported: false, kind: full, where E == GaussianEmissions)
    @_specialize(exported: false, kind: full, where E == CategoricalEmissions)
    func handle(topic: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, sink: OutputSink, now: Double) {
        let message: ParsedMessage
        do {
            if let binary {
                message = try binary.decode(payload, into: &values)
                if case let .categorical(symbols) = settings.shape { try checkSymbolIndices(symbols) }
            } else if symbolNames != nil {
                message = try parser.parse(payload, intoSymbols: &indices)
                values.removeAll(keepingCapacity: true)
                for i in indices { values.append(Double(i)) }
            } else {
                message = try parser.parse(payload, into: &values)
            }
        } catch {
            errors.report(error.description, inputTopic: topic, to: sink, now: now)
            return
        }
        let key = message.seq?.string(in: payload) ?? String(decoding: topic, as: UTF8.self)
        var changed = false
        if message.count == 0 {
            // `{"seq": ..., "end": true}` (or reset) without observations: end a live sequence.
            guard let slot = table.slot(of: key) else {
                let what = message.end ? "end" : "reset"
                errors.report("\(what) for unknown sequence \"\(key)\" (no live sequence has this seq)", inputTopic: topic, to: sink, now: now)
                return
            }
            changed = finish(slot, reason: message.end ? "end" : "reset", learn: message.learn, sink: sink)
            publishParamsIfDue(changed, sink: sink)
            return
        }
        if message.reset, let slot = table.slot(of: key) {
            changed = finish(slot, reason: "reset", learn: message.learn, sink: sink)
        }
        let slot: Int
        if let live = table.slot(of: key) {
            table.touch(live, now: now)
            slot = live
        } else {
            while table.count >= config.maxSequences, table.oldest >= 0 {
                let victim = table.oldest
                let victimKey = table.keys[victim]
                changed = finish(victim, reason: "evicted", learn: true, sink: sink) || changed
                evicted += 1
                errors.report("sequence \"\(victimKey)\" evicted: max_sequences (\(config.maxSequences)) reached; its Viterbi path was published",
                              inputTopic: topic, to: sink, now: now, rejection: false)
            }
            slot = table.insertNew(key, now: now) { learner.newSequence() }
        }
        changed = observe(slot, count: message.count, learn: message.learn) || changed
        if config.publish.posteriors {
            writePosterior(message, key: key, payload: payload)
            writer.withBytes { sink.publish(topic: posteriorTopic, body: $0) }
        }
        if message.end { changed = finish(slot, reason: "end", learn: message.learn, sink: sink) || changed }
        publishParamsIfDue(changed, sink: sink)
    }

    /// Binary payloads for a categorical HMM carry symbol indices as numbers: each must
    /// be a whole number in 0..<M, or it would index past the emission table.
    private func checkSymbolIndices(_ symbols: Int) throws(ObservationError) {
        for (i, v) in values.enumerated() where !(v >= 0 && v < Double(symbols) && v.rounded(.towardZero) == v) {
            throw .invalidSymbolIndex(path: "value \(i)", value: "\(v)", count: symbols)
        }
    }

    /// Runs the message's observations through the learner; true if the parameters changed.
    @_specialize(exported: false, kind: full, where E == GaussianEmissions)
    @_specialize(exported: false, kind: full, where E == CategoricalEmissions)
    private func observe(_ slot: Int, count: Int, learn: Bool) -> Bool {
        let n = settings.states, w = settings.shape.observationWidth
        if filtered.count < count * n {
            filtered = [Double](repeating: 0, count: count * n)
            smoothed = filtered
        }
        if outcomes.count < count { outcomes = [HMMObservation](repeating: HMMObservation(), count: count) }
        var changed = false
        values.withUnsafeBufferPointer { xs in
            filtered.withUnsafeMutableBufferPointer { f in
                smoothed.withUnsafeMutableBufferPointer { s in
                    for i in 0..<count {
                        let o = learner.observe(xs.baseAddress! + i * w, sequence: &table.states[slot], learn: learn,
                                                filtered: f.baseAddress! + i * n, smoothed: s.baseAddress! + i * n)
                        outcomes[i] = o
                        if o.warmupReady, learner.finishWarmup(sequences: &table.states) { changed = true }
                        if o.parametersChanged { changed = true }
                    }
                }
            }
        }
        return changed
    }

    /// Ends a live sequence: learns from its last window, publishes its Viterbi
    /// path and frees its slot. Returns true if the parameters changed.
    @discardableResult
    func finish(_ slot: Int, reason: StaticString, learn: Bool, sink: OutputSink) -> Bool {
        let ending = learner.end(&table.states[slot], learn: learn)
        writeViterbi(ending, key: table.keys[slot], t: table.states[slot].t, reason: reason)
        writer.withBytes { sink.publish(topic: viterbiTopic, body: $0) }
        table.remove(slot, placeholder: placeholder)
        ended += 1
        return ending.parametersChanged
    }

    /// Ends the sequences idle for longer than `sequence_timeout`.
    func tick(sink: OutputSink, now: Double) {
        var changed = false
        while table.oldest >= 0, now - table.lastSeen[table.oldest] > timeout {
            changed = finish(table.oldest, reason: "timeout", learn: true, sink: sink) || changed
            timedOut += 1
        }
        publishParamsIfDue(changed, sink: sink)
    }

    private func publishParamsIfDue(_ changed: Bool, sink: OutputSink) {
        if changed && (paramsPublishedVersion == 0 || learner.observations - paramsPublishedAt >= config.publish.paramsEvery) {
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

    func updatePublish(_ publish: PublishConfig) { config.publish = publish }

    func reset() {
        versionBase = version
        learner = HMMLearner(settings: settings, initial: initial)
        if initial != nil { versionBase = versionBase + 1 - learner.version }
        table.removeAll()
        paramsPublishedVersion = 0
    }
}
