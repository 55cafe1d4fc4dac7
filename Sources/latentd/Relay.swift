import ArgumentParser
import Foundation
import LatentDaemon
import ZeroMQ

/// `latentd relay`: the latency reference of `latentd throughput`, hidden from the
/// help because only that tool starts it.
///
/// A process of its own, like the daemon under test, with one socket thread and one
/// libzmq I/O thread. It answers every message on its input with a posterior-sized
/// message that carries the same id, and does nothing else: no parsing, no learning.
/// So the latency through it at a given send rate is what the sockets and the
/// scheduler alone give on this machine, measured next to the daemon's at that rate.
struct Relay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Answer each message with a posterior-sized message (latentd throughput's latency reference).",
        discussion: """
            Binds a SUB to --input (topic `\(LoadRelay.topic)`, payloads `{"x":[...],"id":N}`) and a PUB to \
            --output, and publishes `posterior/p` with a K = 8 posterior carrying id N for each message, \
            until it is terminated. Started by `latentd throughput`; not meant to be run by hand.
            """,
        shouldDisplay: false
    )

    @Option(help: "Endpoint for the SUB socket to bind.")
    var input: String
    @Option(help: "Endpoint for the PUB socket to bind.")
    var output: String

    func run() throws {
        // A process started from a thread that blocks SIGTERM inherits the block (the
        // test runner's do): unblocked, the default action ends the relay, which holds
        // nothing to save. Before libzmq's threads exist, so that they inherit it too.
        var terminating = sigset_t()
        sigemptyset(&terminating)
        sigaddset(&terminating, SIGTERM)
        sigaddset(&terminating, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &terminating, nil)
        let context = try Context(ioThreads: 1)
        let sub = try context.socket(.sub)
        try sub.set(.receiveHighWaterMark, Int32(0))
        // Wakes once a second when idle to see whether the tool that started it is gone
        // (it kills the relay when it ends, but cannot when it crashes).
        try sub.set(.receiveTimeout, Int32(1_000))
        let parent = getppid()
        try sub.subscribe(LoadRelay.topic)
        try sub.bind(input)
        let pub = try context.socket(.pub)
        try pub.set(.sendHighWaterMark, Int32(0))
        try pub.bind(output)
        let (head, tail) = LoadMessages.posteriorAroundID
        let topic: [UInt8] = Array("posterior/p".utf8)
        var body: [UInt8] = []
        body.reserveCapacity(head.count + tail.count + 32)
        let message = Message()
        while true {
            guard try sub.receive(into: message) else {
                if getppid() != parent { return }
                continue
            }
            guard message.more, try sub.receive(into: message) else { continue }
            body.removeAll(keepingCapacity: true)
            body += head
            guard message.withUnsafeBytes({ payload in
                guard let id = LoadMessages.idDigits(in: payload) else { return false }
                body.append(contentsOf: UnsafeRawBufferPointer(rebasing: payload[id]).assumingMemoryBound(to: UInt8.self))
                return true
            }) else { continue }
            body += tail
            _ = try pub.send(topic, more: true)
            _ = try pub.send(body)
        }
    }
}

/// The relay process during a `latentd throughput` run, on ipc:// sockets in the
/// run's directory; on the daemon's CPU too when the daemon is pinned.
final class LoadRelay {
    /// The topic the relay subscribes to: the daemon's models are `j`, `b` and `p`.
    static let topic = "r"
    let process: Process
    let input: String
    let output: String

    init(binary: String, dir: String, cpu: Int? = nil) throws {
        input = "ipc://\(dir)/relay-in"
        output = "ipc://\(dir)/relay-out"
        process = try startProcess(binary, ["relay", "--input", input, "--output", output], onCPU: cpu)
    }

    deinit { stop() }

    /// SIGKILL: the relay keeps no state, and this works whatever signals it blocks.
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
