import Foundation
import ZeroMQ

/// The control socket (REP): JSON request → JSON reply, always with "ok".
/// Not a hot path, so requests go through Foundation's JSON parser.
extension Daemon {
    func serveControl(_ s: Sockets) {
        while let parts = try? s.control.receiveMultipart(dontWait: true) {
            let reply: [UInt8]
            switch answer(parts, sockets: s) {
            case .success(let body): reply = body
            case .failure(let error):
                var w = JSONWriter(capacity: 256)
                w.beginObject()
                w.key("ok"); w.bool(false)
                w.key("error"); w.string(error.description)
                w.endObject()
                reply = w.bytes
            }
            _ = try? s.control.send(reply, dontWait: true)
        }
    }

    /// The reply object for a request, `"ok": true` first.
    func answer(_ parts: [[UInt8]], sockets s: Sockets) -> Result<[UInt8], DaemonError> {
        guard parts.count == 1 else { return .failure(DaemonError("a control request is one frame of JSON, got \(parts.count) frames")) }
        guard let object = try? JSONSerialization.jsonObject(with: Data(parts[0])),
              let request = object as? [String: Any] else {
            return .failure(DaemonError("request is not a JSON object"))
        }
        guard let cmd = request["cmd"] as? String else {
            return .failure(DaemonError("request needs \"cmd\" (status, params, score, checkpoint, reset)"))
        }
        var host: ModelHost?
        if ["params", "score", "reset"].contains(cmd) {
            let name = request["model"] as? String
            host = hosts.first { $0.config.name == name }
            if host == nil {
                let names = hosts.map { "\"\($0.config.name)\"" }.joined(separator: ", ")
                return .failure(DaemonError(name.map { "unknown model \"\($0)\" (models: \(names))" }
                                            ?? "\(cmd) needs \"model\": one of \(names)"))
            }
        }
        var w = JSONWriter(capacity: 4096)
        w.beginObject()
        w.key("ok"); w.bool(true)
        switch cmd {
        case "status":
            writeStatus(sockets: s, into: &w)
        case "params":
            // The same object as params/<model>, with "ok" in front.
            var body = JSONWriter(capacity: 4096)
            host!.writeParams(into: &body)
            return .success(w.bytes + [UInt8(ascii: ",")] + body.bytes.dropFirst())
        case "score":
            if let error = host!.score(request: request, into: &w) { return .failure(DaemonError(error)) }
        case "checkpoint":
            var failures: [String] = []
            w.key("checkpoints"); w.beginArray()
            for (snapshot, result) in checkpoints.writeNow(snapshots(force: true)) {
                w.beginObject()
                w.key("model"); w.string(snapshot.model)
                w.key("version"); w.int(snapshot.version)
                switch result {
                case .success(let written):
                    w.key("file"); w.string(written.path)
                    w.key("generation"); w.int(Int(written.generation))
                case .failure(let error):
                    failures.append("\(snapshot.model): \(error)")
                }
                w.endObject()
            }
            w.endArray()
            if !failures.isEmpty { return .failure(DaemonError("checkpoint failed: " + failures.joined(separator: "; "))) }
        case "reset":
            host!.reset()
            host!.publishParams(sink: s.sink)
            w.key("model"); w.string(host!.config.name)
            w.key("version"); w.int(host!.version)
        default:
            return .failure(DaemonError("unknown cmd \"\(cmd)\" (status, params, score, checkpoint, reset)"))
        }
        w.endObject()
        return .success(w.bytes)
    }

    func writeStatus(sockets s: Sockets, into w: inout JSONWriter) {
        w.key("version"); w.string(LatentdVersion.string)
        w.key("pid"); w.int(Int(getpid()))
        w.key("uptime_s"); w.double(Date().timeIntervalSince(startedAt))
        w.key("received"); w.int(received)
        w.key("rejected"); w.int(inputErrors.count + hosts.reduce(0) { $0 + $1.rejected })
        w.key("disconnects"); w.int(disconnects)
        w.key("reloads"); w.int(reloads)
        w.key("published"); w.int(s.sink.sent)
        w.key("publish_dropped"); w.int(s.sink.dropped)
        w.key("checkpoint_failures"); w.int(checkpoints.failures.withLock { $0 })
        if let rss = Self.residentBytes() { w.key("rss_bytes"); w.int(rss) }
        let written = checkpoints.written.withLock { $0 }
        w.key("models"); w.beginArray()
        for h in hosts {
            w.beginObject()
            h.writeStatus(into: &w)
            if let c = written[h.config.name] {
                w.key("checkpoint"); w.beginObject()
                w.key("file"); w.string(c.path)
                w.key("generation"); w.int(Int(c.generation))
                w.endObject()
            }
            w.endObject()
        }
        w.endArray()
    }
}

extension Daemon {
    /// A process's resident set size now (`/proc/<pid>/statm`'s second field, in
    /// pages): this process's without `pid` (`status`), or another's (`latentd
    /// throughput` watching the daemon). Nil where there is no such file.
    public static func residentBytes(pid: Int32? = nil) -> Int? {
        let path = "/proc/\(pid.map(String.init) ?? "self")/statm"
        guard let statm = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let fields = statm.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * sysconf(Int32(_SC_PAGESIZE))
    }
}

public enum LatentdVersion {
    public static let string = "0.1.0"
}
