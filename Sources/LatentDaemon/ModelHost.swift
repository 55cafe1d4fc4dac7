/// One configured model inside the daemon: it turns input payloads into
/// learning and output messages, and its state into checkpoint bytes.
///
/// A protocol because there are real alternatives (Gaussian mixtures now,
/// hidden Markov models next) behind the same routing, control and checkpoints.
protocol ModelHost: AnyObject {
    var config: ModelConfig { get }
    /// Prefix of the input topics this model consumes.
    var topicPrefix: [UInt8] { get }
    /// Parameter version (SPEC §4: +1 at every change; 0 before the first model).
    var version: Int { get }
    /// Observations seen.
    var observations: Int { get }
    /// Rejected messages (each also explained on `error/<model>`).
    var rejected: Int { get }

    /// Handles one input message; errors are reported, never thrown.
    func handle(topic: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, sink: OutputSink, now: Double)
    /// Counts and explains a message rejected before it reached the model (framing).
    func reject(_ reason: String, topic: UnsafeRawBufferPointer, sink: OutputSink, now: Double)

    /// The `params/<model>` object.
    func writeParams(into w: inout JSONWriter)
    /// This model's entry in the control socket's `status` reply.
    func writeStatus(into w: inout JSONWriter)
    /// The control socket's `score`: posteriors without learning. Returns an error text.
    func score(request: [String: Any], into w: inout JSONWriter) -> String?
    /// Publishes the current parameters on `params/<model>`.
    func publishParams(sink: OutputSink)

    /// Time-driven work (HMM: ending sequences idle past `sequence_timeout`).
    func tick(sink: OutputSink, now: Double)
    /// Finishes whatever `handle` deferred (the GMM host's held rows). The daemon
    /// calls it at the end of every drain of the input, before it does anything else.
    func flush(sink: OutputSink)

    /// Applies a reloaded `publish` block (SIGHUP).
    func updatePublish(_ publish: PublishConfig)
    /// Forget everything learned and start again (control `reset`).
    func reset()
    /// The whole state, bit-exact (checkpoint payload).
    func snapshot() -> [UInt8]
    /// Restores a snapshot written by `snapshot()`; throws a readable reason.
    func restore(_ payload: [UInt8]) throws
}

extension ModelHost {
    func tick(sink: OutputSink, now: Double) {}
    func flush(sink: OutputSink) {}
}
