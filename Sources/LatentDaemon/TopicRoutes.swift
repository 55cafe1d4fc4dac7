import Glibc

/// The models' topic prefixes side by side in one buffer, for routing every input
/// message by comparing bytes. Iterating `hosts` for it retained each host and its
/// prefix array per message: a tenth of the daemon's time at one observation per
/// message (`perf` during `latentd throughput --framings json1`).
struct TopicRoutes {
    /// Prefix i is `bytes[bounds[i]..<bounds[i + 1]]`.
    private let bytes: [UInt8]
    private let bounds: [Int]

    init(_ prefixes: [[UInt8]]) {
        var bytes: [UInt8] = [], bounds = [0]
        for prefix in prefixes {
            bytes += prefix
            bounds.append(bytes.count)
        }
        self.bytes = bytes
        self.bounds = bounds
    }

    /// Calls `body` with the index of every model whose prefix `topic` starts with,
    /// in configuration order; returns whether there was any.
    @inline(__always)
    func forEachMatch(_ topic: UnsafeRawBufferPointer, _ body: (Int) -> Void) -> Bool {
        var matched = false
        bytes.withUnsafeBufferPointer { b in
            bounds.withUnsafeBufferPointer { bounds in
                for i in 0..<(bounds.count - 1) {
                    let length = bounds[i + 1] - bounds[i]
                    guard topic.count >= length else { continue }
                    if length > 0, memcmp(topic.baseAddress!, b.baseAddress! + bounds[i], length) != 0 { continue }
                    matched = true
                    body(i)
                }
            }
        }
        return matched
    }

    /// The model `topic` goes to if it goes to exactly one.
    func onlyMatch(_ topic: UnsafeRawBufferPointer) -> Int? {
        var only: Int?, matches = 0
        _ = forEachMatch(topic) { i in only = i; matches += 1 }
        return matches == 1 ? only : nil
    }

    /// The first model whose prefix `topic` starts with.
    func firstMatch(_ topic: UnsafeRawBufferPointer) -> Int? {
        var first: Int?
        _ = forEachMatch(topic) { i in if first == nil { first = i } }
        return first
    }
}
