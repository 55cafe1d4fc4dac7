import Foundation
import Histogram
import LatentDaemon
import Synchronization
import ZeroMQ

/// Reads `posterior/p` from the daemon and the relay on its own thread (its SUB
/// socket never leaves it):
/// counts posteriors, notes the end markers (negative ids) and records the
/// latency of every posterior whose id is its scheduled send time (ns).
final class PosteriorCollector: Sendable {
    let latencies = Mutex(PosteriorCollector.emptyHistogram())
    let marker = Atomic<Int>(0)
    let received = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private let finished = Atomic<Bool>(false)

    static func emptyHistogram() -> Histogram<UInt64> {
        Histogram(highestTrackableValue: 600_000_000_000, numberOfSignificantValueDigits: .three)
    }

    init(context: Context, endpoints: [String]) {
        let thread = Thread { [self] in
            defer { finished.store(true, ordering: .releasing) }
            do {
                let sub = try context.socket(.sub)
                try sub.set(.receiveHighWaterMark, Int32(0))
                try sub.set(.receiveTimeout, Int32(100))
                try sub.subscribe("posterior/p")
                for endpoint in endpoints { try sub.connect(endpoint) }
                let message = Message()
                while !stopping.load(ordering: .relaxed) {
                    guard try sub.receive(into: message), message.more, try sub.receive(into: message) else { continue }
                    let now = monotonicNanos()
                    let id = message.withUnsafeBytes(Self.id(in:))
                    if id < 0 {
                        marker.store(-id, ordering: .releasing)
                    } else if id > 0 {
                        let latency = now > UInt64(id) ? now - UInt64(id) : 0
                        latencies.withLock { _ = $0.record(latency) }
                    }
                    received.add(1, ordering: .relaxed)
                }
                sub.close()
            } catch {
                print("throughput: posterior collector failed: \(error)")
            }
        }
        thread.start()
    }

    func stop() {
        stopping.store(true, ordering: .relaxed)
        while !finished.load(ordering: .acquiring) { usleep(1_000) }
    }

    /// The integer after `"id":` in a posterior, 0 if none.
    static func id(in bytes: UnsafeRawBufferPointer) -> Int {
        let key = LoadMessages.idKey
        guard bytes.count > key.count else { return 0 }
        var i = 0
        while i + key.count < bytes.count {
            if bytes[i] == key[0], (0..<key.count).allSatisfy({ bytes[i + $0] == key[$0] }) {
                var j = i + key.count, sign = 1, value = 0
                if j < bytes.count, bytes[j] == UInt8(ascii: "-") { sign = -1; j += 1 }
                while j < bytes.count, bytes[j] >= 48, bytes[j] <= 57 { value = value * 10 + Int(bytes[j] - 48); j += 1 }
                return sign * value
            }
            i += 1
        }
        return 0
    }
}

/// Asks `status` every 50 ms on its own REQ socket and keeps the round trips,
/// to show the control socket answers while the input is saturated.
final class StatusProbe: Sendable {
    let roundTrips = Mutex<[UInt64]>([])
    private let stopping = Atomic<Bool>(false)
    private let finished = Atomic<Bool>(false)

    init(context: Context, endpoint: String) {
        let thread = Thread { [self] in
            defer { finished.store(true, ordering: .releasing) }
            do {
                let client = try ControlClient(context: context, endpoint: endpoint)
                while !stopping.load(ordering: .relaxed) {
                    let start = monotonicNanos()
                    _ = try client.request(#"{"cmd":"status"}"#)
                    let rtt = monotonicNanos() - start
                    roundTrips.withLock { $0.append(rtt) }
                    usleep(50_000)
                }
                client.socket.close()
            } catch {
                print("throughput: status probe failed: \(error)")
            }
        }
        thread.start()
    }

    func stop() -> [UInt64] {
        stopping.store(true, ordering: .relaxed)
        while !finished.load(ordering: .acquiring) { usleep(1_000) }
        return roundTrips.withLock { $0 }
    }
}

/// The transport reference: the same pre-encoded messages from a native PUB to
/// a plain SUB that only counts them, over ipc in the same run.
///
/// With `relay` (the posteriors-on reference), a thread in between does what the
/// daemon's sockets do with posteriors on and nothing else: it receives each message
/// on a SUB and publishes `relay` in its place on a PUB, to the counting SUB. That
/// rate is as high as the sockets allow a posterior for every message in.
enum TransportReference {
    static func observationsPerSecond(context: Context, endpoint: String, payloads: [[UInt8]],
                                      messages: Int, observationsPerMessage: Int, relay: [UInt8]? = nil) throws -> Double {
        final class Shared: Sendable {
            let warm = Atomic<Bool>(false)
            let end = Atomic<UInt64>(0)
            let failed = Atomic<Bool>(false)
        }
        let shared = Shared()
        let relayed = "\(endpoint)-relayed"
        let relayThread = relay.map { body in
            Thread {
                do {
                    try Self.relay(context: context, from: endpoint, to: relayed, body: body, messages: messages)
                } catch {
                    print("throughput: \(error)")
                    shared.failed.store(true, ordering: .relaxed)
                }
            }
        }
        let consumer = Thread {
            do {
                let sub = try context.socket(.sub)
                try sub.set(.receiveHighWaterMark, Int32(0))
                try sub.set(.receiveTimeout, Int32(10_000))
                try sub.subscribe("")
                try sub.connect(relay == nil ? endpoint : relayed)
                let message = Message()
                var count = 0
                while count < messages {
                    guard try sub.receive(into: message) else { throw DaemonError("transport reference: no message for 10 s") }
                    let warm = message.hasPrefix("w")
                    guard message.more, try sub.receive(into: message) else { continue }
                    if warm { shared.warm.store(true, ordering: .relaxed) } else { count += 1 }
                }
                shared.end.store(monotonicNanos(), ordering: .releasing)
                sub.close()
            } catch {
                print("throughput: \(error)")
                shared.failed.store(true, ordering: .relaxed)
            }
        }
        let producer = try context.socket(.pub)
        try producer.set(.sendHighWaterMark, Int32(0))
        try producer.set(.linger, Int32(0))
        try producer.bind(endpoint)
        defer { producer.close() }
        relayThread?.start()
        consumer.start()
        let warm: [UInt8] = [UInt8(ascii: "w")], data: [UInt8] = [UInt8(ascii: "d")]
        while !shared.warm.load(ordering: .relaxed) && !shared.failed.load(ordering: .relaxed) {
            _ = try producer.send(warm, more: true)
            _ = try producer.send(payloads[0])
            usleep(1_000)
        }
        let start = monotonicNanos()
        for i in 0..<messages {
            _ = try producer.send(data, more: true)
            _ = try producer.send(payloads[i % payloads.count])
        }
        while shared.end.load(ordering: .acquiring) == 0 {
            if shared.failed.load(ordering: .relaxed) { throw DaemonError("the transport reference consumer failed") }
            usleep(500)
        }
        let seconds = Double(shared.end.load(ordering: .acquiring) - start) / 1e9
        return Double(messages * observationsPerMessage) / seconds
    }

    /// The relay's loop, on its own thread with its own two sockets: each message's
    /// first frame ("w" warm-up or "d" data) goes on, followed by `body`, until
    /// `messages` data messages have passed.
    private static func relay(context: Context, from input: String, to output: String, body: [UInt8], messages: Int) throws {
        let sub = try context.socket(.sub)
        try sub.set(.receiveHighWaterMark, Int32(0))
        try sub.set(.receiveTimeout, Int32(10_000))
        try sub.subscribe("")
        try sub.connect(input)
        let pub = try context.socket(.pub)
        try pub.set(.sendHighWaterMark, Int32(0))
        // Closed after the last message it relays: without a linger those still queued
        // would be dropped, and the consumer would wait for them in vain.
        try pub.set(.linger, Int32(10_000))
        try pub.bind(output)
        defer {
            sub.close()
            pub.close()
        }
        let first = Message(), rest = Message()
        var count = 0
        while count < messages {
            guard try sub.receive(into: first) else { throw DaemonError("transport reference relay: no message for 10 s") }
            guard first.more, try sub.receive(into: rest) else { continue }
            let data = !first.hasPrefix("w")
            _ = try first.withUnsafeBytes { try pub.send($0, more: true) }
            _ = try pub.send(body)
            if data { count += 1 }
        }
    }
}

/// The whole machine's CPU time from /proc/stat, in clock ticks: what every process
/// (the daemon, the relay, this tool, anything else) and the kernel kept busy.
struct MachineCPU {
    var busy: UInt64
    var all: UInt64

    /// The first line of /proc/stat: user nice system idle iowait irq softirq steal ...
    /// (guest time is already inside user). Busy is all but idle and iowait, so it
    /// includes steal: time the hypervisor gave this VM's CPUs to someone else (about
    /// 1 % during a latency run here). Zeros if it cannot be read.
    static func ticks() -> MachineCPU {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = stat.split(separator: "\n").first, line.hasPrefix("cpu ") else { return MachineCPU(busy: 0, all: 0) }
        let fields = line.split(separator: " ").dropFirst().prefix(8).compactMap { UInt64($0) }
        guard fields.count == 8 else { return MachineCPU(busy: 0, all: 0) }
        let idle = fields[3] + fields[4]
        let all = fields.reduce(0, +)
        return MachineCPU(busy: all - idle, all: all)
    }

    /// CPUs busy on average since `earlier`, out of the machine's count.
    func busyCPUs(since earlier: MachineCPU) -> Double {
        guard all > earlier.all, busy >= earlier.busy else { return 0 }
        return Double(busy - earlier.busy) / Double(all - earlier.all) * Double(ProcessInfo.processInfo.activeProcessorCount)
    }
}
