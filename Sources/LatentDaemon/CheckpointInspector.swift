import LatentCore

/// `latentd inspect`: a checkpoint's header and model as JSON.
public enum CheckpointInspector {
    public static func json(path: String) throws -> String {
        let file: CheckpointFile
        do { file = try CheckpointStore.read(path: path) } catch { throw DaemonError("\(error)") }
        var r = ByteReader(file.payload)
        let tag = try r.readString()
        if tag == HMMHost<GaussianEmissions>.snapshotTag { return try hmmJSON(path: path, file: file, reader: r) }
        guard tag == MixtureHost.snapshotTag else { throw DaemonError("unknown model state \"\(tag)\"") }
        let versionBase = try r.readInt()
        _ = try r.readInt()
        _ = try r.readInt()
        let settings = try MixtureLearner.storedSettings(r)
        let learner = try MixtureLearner(settings: settings, decoding: &r)
        var w = JSONWriter(capacity: 4096)
        w.beginObject()
        header(file, path: path, into: &w)
        w.key("state"); w.beginObject()
        w.key("kind"); w.string("gmm")
        w.key("version"); w.int(versionBase + learner.version)
        w.key("n"); w.int(learner.observations)
        w.key("steps"); w.int(learner.step)
        w.key("pending"); w.int(learner.pendingObservations)
        w.key("warmup_buffered"); w.int(learner.bufferedObservations)
        w.key("components"); w.int(settings.components)
        w.key("dimensions"); w.int(settings.dimensions)
        w.key("params")
        if let model = learner.model { MixtureHost.writeMixture(model, into: &w) } else { w.null() }
        w.endObject()
        w.endObject()
        return String(decoding: w.bytes, as: UTF8.self)
    }

    static func header(_ file: CheckpointFile, path: String, into w: inout JSONWriter) {
        w.key("file"); w.string(path)
        w.key("format_version"); w.int(Int(file.formatVersion))
        w.key("model"); w.string(file.model)
        w.key("generation"); w.int(Int(file.generation))
        w.key("fingerprint"); w.string(hex(file.fingerprint))
        w.key("payload_bytes"); w.int(file.payload.count)
    }

    /// An HMM checkpoint: the shared state and how many sequences were in flight.
    static func hmmJSON(path: String, file: CheckpointFile, reader: ByteReader) throws -> String {
        var r = reader
        let versionBase = try r.readInt()
        for _ in 0..<5 { _ = try r.readInt() }
        let probe = r
        var w = JSONWriter(capacity: 4096)
        w.beginObject()
        header(file, path: path, into: &w)
        w.key("state"); w.beginObject()
        w.key("kind"); w.string("hmm")
        switch try HMMLearnerSettings.stored(probe) {
        case .gaussian(let settings):
            try describe(HMMLearner<GaussianEmissions>(settings: settings, decoding: &r), versionBase, &r, into: &w)
        case .categorical(let settings):
            try describe(HMMLearner<CategoricalEmissions>(settings: settings, decoding: &r), versionBase, &r, into: &w)
        }
        w.endObject()
        w.endObject()
        return String(decoding: w.bytes, as: UTF8.self)
    }

    private static func describe<E: DaemonEmissions>(_ learner: HMMLearner<E>, _ versionBase: Int, _ r: inout ByteReader,
                                                     into w: inout JSONWriter) throws {
        w.key("version"); w.int(versionBase + learner.version)
        w.key("n"); w.int(learner.observations)
        w.key("steps"); w.int(learner.step)
        w.key("states"); w.int(learner.settings.states)
        w.key("live_sequences"); w.int(try r.readInt())
        w.key("params")
        if let model = learner.model {
            w.beginObject()
            w.key("start"); w.doubles(model.start)
            w.key("transitions"); MixtureHost.writeRows(model.transitions, width: model.states, into: &w)
            model.emissions.writeParams(into: &w)
            w.endObject()
        } else {
            w.null()
        }
    }
}
