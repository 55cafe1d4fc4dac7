import Foundation

/// Counts every rejected input exactly and explains it on `error/<name>`, at
/// most `limitPerSecond` messages a second so that a flood of garbage cannot
/// turn into a flood of output.
struct ErrorReporter {
    let topic: [UInt8]
    let limitPerSecond: Int
    private(set) var count = 0
    private(set) var suppressed = 0
    private var windowStart = 0.0
    private var sentInWindow = 0
    private var writer = JSONWriter(capacity: 512)
    /// Bytes of its buffers (the model's `heap_bytes`).
    var heapBytes: Int { topic.storageBytes + writer.capacity }

    init(name: String, limitPerSecond: Int = 100) {
        topic = Array("error/\(name)".utf8)
        self.limitPerSecond = limitPerSecond
    }

    /// Counts one rejection of a message on `inputTopic` and publishes the reason.
    /// `rejection: false` reports an event that is not a refused input (an evicted
    /// sequence): it is explained on `error/` but not counted as rejected.
    mutating func report(_ reason: String, inputTopic: UnsafeRawBufferPointer, to sink: OutputSink, now: Double,
                         rejection: Bool = true) {
        if rejection { count += 1 }
        if now - windowStart >= 1 {
            windowStart = now
            sentInWindow = 0
        }
        guard sentInWindow < limitPerSecond else {
            suppressed += 1
            return
        }
        sentInWindow += 1
        writer.reset()
        writer.beginObject()
        writer.key("topic"); writer.string(utf8: inputTopic)
        writer.key("error"); writer.string(reason)
        writer.key("count"); writer.int(count)
        if suppressed > 0 { writer.key("suppressed"); writer.int(suppressed) }
        writer.endObject()
        writer.withBytes { sink.publish(topic: topic, body: $0) }
    }
}

/// Seconds on a monotonic clock, for rate limits and timers.
func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}
