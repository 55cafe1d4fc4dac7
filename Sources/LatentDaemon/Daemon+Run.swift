import Foundation
import Logging
import ZeroMQ

extension Daemon {
    /// The sockets, owned by the thread that calls `run()`.
    struct Sockets {
        let context: Context
        let input: Socket
        let monitor: SocketMonitor
        let output: Socket
        let control: Socket
        let sink: PublisherSink
    }

    /// Binds and connects everything; fails with the endpoint that did not work.
    func openSockets() throws -> Sockets {
        let context = try Context()
        func attempt<T>(_ what: String, _ body: () throws -> T) throws -> T {
            do { return try body() } catch { throw DaemonError("\(what): \(error)") }
        }
        let input = try context.socket(.sub)
        try input.set(.maxMessageSize, Int64(config.input.maxMessageSize))
        try input.set(.receiveHighWaterMark, Int32(clamping: config.input.rcvhwm))
        for host in hosts { try input.subscribe(host.topicPrefix) }
        let monitor = try input.openMonitor(endpoint: "inproc://latentd-input-monitor-\(ObjectIdentifier(self).hashValue)",
                                            events: MonitorEventMask(.disconnected))
        for e in config.input.bind { try attempt("input.bind \(e)") { try input.bind(e) } }
        for e in config.input.connect { try attempt("input.connect \(e)") { try input.connect(e) } }
        let output = try context.socket(.pub)
        try output.set(.sendHighWaterMark, Int32(clamping: config.output.sndhwm))
        try attempt("output.bind \(config.output.bind)") { try output.bind(config.output.bind) }
        let control = try context.socket(.rep)
        try attempt("control.bind \(config.control.bind)") { try control.bind(config.control.bind) }
        return Sockets(context: context, input: input, monitor: monitor, output: output, control: control,
                       sink: PublisherSink(socket: output))
    }

    /// Runs until SIGTERM/SIGINT (or `signals.send(.stop)`), then writes a final
    /// checkpoint. Throws only for problems at start-up.
    public func run() throws {
        let sockets = try openSockets()
        defer {
            sockets.monitor.close()
            sockets.input.close()
            sockets.output.close()
            sockets.control.close()
        }
        let poller = Poller()
        let inputToken = try poller.add(sockets.input)
        let controlToken = try poller.add(sockets.control)
        let monitorToken = try poller.add(sockets.monitor.socket)
        let signalToken = poller.add(fileDescriptor: signals.readFD)
        for host in hosts { host.publishParams(sink: sockets.sink) }
        try? notifier.ready()
        try? notifier.status("running \(hosts.count) model(s)")
        logger.info("latentd ready", metadata: [
            "models": "\(hosts.map(\.config.name).joined(separator: ","))",
            "output": "\(config.output.bind)", "control": "\(config.control.bind)",
        ])

        let topic = Message(), payload = Message()
        // The helper thread that parses large JSON payloads (ParseAhead.swift), when a
        // model can use it.
        let parseAhead = hosts.contains { ($0 as? MixtureHost)?.jsonParser != nil } ? ParseAhead() : nil
        defer { parseAhead?.stop() }
        var nextCheckpoint = monotonicSeconds() + config.checkpoint.interval.seconds
        let watchdogPeriod = notifier.watchdogInterval.map { Double($0.components.seconds) + Double($0.components.attoseconds) * 1e-18 }
        var nextWatchdog = monotonicSeconds()
        var nextTick = monotonicSeconds() + 1
        var stopping = false
        while !stopping {
            let now = monotonicSeconds()
            if now >= nextTick {
                for host in hosts { host.tick(sink: sockets.sink, now: now) }
                nextTick = now + 1
            }
            var deadline = min(nextCheckpoint, nextTick)
            if let watchdogPeriod {
                if now >= nextWatchdog { try? notifier.watchdog(); nextWatchdog = now + watchdogPeriod }
                deadline = min(deadline, nextWatchdog)
            }
            if now >= nextCheckpoint {
                let due = snapshots(force: false)
                if !due.isEmpty { checkpoints.writeInBackground(due) }
                nextCheckpoint = now + config.checkpoint.interval.seconds
                continue
            }
            let timeout = Int(max(0, min(1, deadline - now)) * 1000) + 1
            do { _ = try poller.poll(timeout: timeout) } catch { continue }  // EINTR: go round again

            if poller.isReadable(signalToken) {
                for event in signals.drain() {
                    switch event {
                    case .stop: stopping = true
                    case .reload: reload()
                    }
                }
            }
            if poller.isReadable(controlToken) { serveControl(sockets) }
            if poller.isReadable(monitorToken) { handleMonitorEvents(sockets) }
            if poller.isReadable(inputToken) {
                drainInput(sockets, topic: topic, payload: payload, parseAhead: parseAhead)
            }
        }
        try? notifier.stopping()
        logger.info("stopping: writing final checkpoints")
        for (snapshot, result) in checkpoints.writeNow(snapshots(force: true)) {
            if case .failure(let error) = result {
                logger.error("final checkpoint of \(snapshot.model) failed: \(error)")
            }
        }
        logger.info("latentd stopped")
    }

    /// Receives for at most ~5 ms (and 4096 messages), so that the control socket and
    /// signals are served between bursts even when the input never goes quiet: a
    /// message bound would let batches of 100 observations hold `status` for seconds.
    ///
    /// Large JSON payloads for a single Gaussian-mixture model are parsed ahead on
    /// `parseAhead`'s helper thread; every other message first waits for those before
    /// it, and the drain ends with none in flight, so the order of everything is the
    /// order of arrival.
    func drainInput(_ s: Sockets, topic: Message, payload: Message, parseAhead: ParseAhead?) {
        // The hosts and routes once per drain: read from `self` per message, each
        // read retained and released them.
        let hosts = self.hosts, routes = self.routes
        let complete: (ParseAhead.Job) -> Void = { job in
            job.host!.handle(parsed: job, sink: s.sink, now: monotonicSeconds())
        }
        s.sink.hold()
        defer {
            parseAhead?.completeAll(complete)
            for host in hosts { host.flush(sink: s.sink) }
            s.sink.release()
        }
        /// Hands the message to the helper if it qualifies; otherwise completes the
        /// jobs before it and returns false.
        func parsedAhead(_ topic: UnsafeRawBufferPointer, _ payload: UnsafeRawBufferPointer) -> Bool {
            guard let parseAhead else { return false }
            if payload.count >= ParseAhead.minimumPayload, let i = routes.onlyMatch(topic),
               let host = hosts[i] as? MixtureHost, let parser = host.jsonParser {
                parseAhead.submit(host: host, parser: parser, topic: topic, payload: payload, complete: complete)
                return true
            }
            parseAhead.completeAll(complete)
            return false
        }
        var now = monotonicSeconds(), budget = 4096
        let until = now + 0.005
        while budget > 0, now <= until {
            budget -= 1
            guard (try? s.input.receive(into: topic, dontWait: true)) == true else { return }
            received += 1
            // The clock every 16 messages: read per message, it was 3 % of the daemon's
            // time at one observation per message. 16 messages of 100 JSON observations
            // take about 1 ms, well inside the 5 ms bound.
            if budget & 15 == 0 { now = monotonicSeconds() }
            if !topic.more {
                // Single frame: "topic payload".
                topic.withUnsafeBytes { frame in
                    guard let space = frame.firstIndex(of: UInt8(ascii: " ")) else {
                        parseAhead?.completeAll(complete)
                        rejectInput("a single-frame message must be \"topic payload\" (no space found)", topic: frame, sink: s.sink, now: now)
                        return
                    }
                    let t = UnsafeRawBufferPointer(rebasing: frame[..<space])
                    let p = UnsafeRawBufferPointer(rebasing: frame[(space + 1)...])
                    if parsedAhead(t, p) { return }
                    route(topic: t, payload: p, sink: s.sink, now: now, hosts: hosts, routes: routes)
                }
                continue
            }
            guard (try? s.input.receive(into: payload, dontWait: true)) == true else { continue }
            if payload.more {
                parseAhead?.completeAll(complete)
                let dropped = (try? s.input.skipRemainingParts(using: payload)) ?? 0
                topic.withUnsafeBytes { t in
                    rejectInput("expected 2 frames [topic, payload], got \(2 + dropped) frames", topic: t, sink: s.sink, now: now)
                }
                continue
            }
            topic.withUnsafeBytes { t in
                payload.withUnsafeBytes { p in
                    if parsedAhead(t, p) { return }
                    route(topic: t, payload: p, sink: s.sink, now: now, hosts: hosts, routes: routes)
                }
            }
        }
    }

    /// Hands a message to every model whose topic prefix it starts with.
    func route(topic: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, sink: OutputSink, now: Double,
               hosts: [ModelHost], routes: TopicRoutes) {
        let matched = routes.forEachMatch(topic) { i in
            let host = hosts[i]
            if payload.isEmpty {
                host.reject("empty payload", topic: topic, sink: sink, now: now)
            } else {
                host.handle(topic: topic, payload: payload, sink: sink, now: now)
            }
        }
        if !matched { rejectInput("no model consumes this topic", topic: topic, sink: sink, now: now) }
    }

    func rejectInput(_ reason: String, topic: UnsafeRawBufferPointer, sink: OutputSink, now: Double) {
        // Attribute framing errors to the model the topic belongs to, when there is one.
        if let first = routes.firstMatch(topic) {
            hosts[first].reject(reason, topic: topic, sink: sink, now: now)
        } else {
            inputErrors.report(reason, inputTopic: topic, to: sink, now: now)
        }
    }

    /// libzmq 4.3 treats a message over ZMQ_MAXMSGSIZE as a protocol error and
    /// does not reconnect a connecting socket afterwards; a dropped `input.connect`
    /// endpoint is therefore reconnected by hand.
    func handleMonitorEvents(_ s: Sockets) {
        while let event = try? s.monitor.receive(dontWait: true) {
            guard event.event == .disconnected else { continue }
            let now = monotonicSeconds()
            let reason = "connection \(event.endpoint) dropped (peer gone, or a message over max_message_size=\(config.input.maxMessageSize) bytes)"
            disconnects += 1
            if let endpoint = config.input.connect.first(where: { sameEndpoint($0, event.endpoint) }) {
                try? s.input.disconnect(endpoint)
                do {
                    try s.input.connect(endpoint)
                    logger.warning("\(reason); reconnected")
                } catch {
                    logger.error("\(reason); reconnecting failed: \(error)")
                }
            } else {
                logger.warning("\(reason)")
            }
            Array(event.endpoint.utf8).withUnsafeBytes { e in
                inputErrors.report(reason, inputTopic: e, to: s.sink, now: now)
            }
        }
    }
}

/// Compares a configured endpoint with the one libzmq reports ("localhost" is
/// reported resolved, so compare ports and paths loosely).
func sameEndpoint(_ configured: String, _ reported: String) -> Bool {
    if configured == reported { return true }
    func tail(_ s: String) -> Substring { s.split(separator: ":").last ?? Substring(s) }
    return configured.hasPrefix("tcp://") && reported.hasPrefix("tcp://") && tail(configured) == tail(reported)
}
