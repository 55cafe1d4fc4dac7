import LatentCore

/// `latentd inspect`: a checkpoint's header and model as JSON.
public enum CheckpointInspector {
    public static func json(path: String) throws -> String {
        let file: CheckpointFile
        do { file = try CheckpointStore.read(path: path) } catch { throw DaemonError("\(error)") }
        var r = ByteReader(file.payload)
        let tag = try r.readString()
        guard tag == MixtureHost.snapshotTag else { throw DaemonError("unknown model state \"\(tag)\"") }
        let versionBase = try r.readInt()
        _ = try r.readInt()
        _ = try r.readInt()
        let settings = try MixtureLearner.storedSettings(r)
        let learner = try MixtureLearner(settings: settings, decoding: &r)
        var w = JSONWriter(capacity: 4096)
        w.beginObject()
        w.key("file"); w.string(path)
        w.key("format_version"); w.int(Int(file.formatVersion))
        w.key("model"); w.string(file.model)
        w.key("generation"); w.int(Int(file.generation))
        w.key("fingerprint"); w.string(hex(file.fingerprint))
        w.key("payload_bytes"); w.int(file.payload.count)
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
}
