import Foundation

/// Parses large JSON payloads of Gaussian-mixture models on a helper thread while
/// the socket thread learns from the messages before them: the second core's share
/// of JSON batch ingest, where parsing costs about twice the learning (README,
/// Performance).
///
/// Nothing observable changes. The socket thread still owns every socket and
/// every model; the helper only turns a copy of a payload into numbers (or a parse
/// error) with the model's own parser, which is a pure function of the bytes. Jobs
/// complete strictly in arrival order, and the daemon completes all of them before
/// it handles any other message, a control request, a signal or a checkpoint. So
/// models, posteriors, errors and their order are those of parsing inline.
///
/// While the oldest job is still being parsed by the helper, the socket thread
/// parses the next waiting one itself rather than wait: both cores parse, one learns.
final class ParseAhead: @unchecked Sendable {
    /// Payloads at least this long go through the helper; shorter ones (one
    /// observation is about 170 bytes) cost less to parse than to hand over.
    static let minimumPayload = 4096
    /// Jobs in flight: enough to keep both threads busy, few enough to bound the copies.
    static let capacity = 8

    /// One message: written by the socket thread while `free`, by the thread that
    /// claimed it while `parsing`, read by the socket thread once `parsed`. The
    /// condition's lock orders those hand-overs.
    final class Job: @unchecked Sendable {
        var host: MixtureHost?
        var parser: ObservationParser?
        var topic: [UInt8] = []
        var payload: [UInt8] = []
        var values: [Double] = []
        var result: Result<ParsedMessage, ObservationError> = .failure(.emptyPayload)

        func parse() {
            guard let parser else { return }
            result = payload.withUnsafeBytes { p in
                do throws(ObservationError) { return .success(try parser.parse(p, into: &values)) } catch { return .failure(error) }
            }
        }
    }

    private enum State { case free, waiting, parsing, parsed }

    private let condition = NSCondition()
    private let jobs: [Job] = (0..<ParseAhead.capacity).map { _ in Job() }
    private var states = [State](repeating: .free, count: ParseAhead.capacity)
    private var head = 0
    private var count = 0
    private var stopping = false

    init() {
        let thread = Thread { [self] in helperLoop() }
        thread.name = "latentd-parse"
        thread.start()
    }

    /// Stops the helper (after its current job). Call once, from the socket thread,
    /// with no job in flight.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    /// Queues a payload for `host`'s parser. When all slots are taken the oldest job
    /// is completed first, through `complete`.
    func submit(host: MixtureHost, parser: ObservationParser, topic: UnsafeRawBufferPointer,
                payload: UnsafeRawBufferPointer, complete: (Job) -> Void) {
        if count == Self.capacity { completeOldest(complete) }
        let slot = (head + count) % Self.capacity
        let job = jobs[slot]  // free: only this thread touches it
        job.host = host
        job.parser = parser
        job.topic.removeAll(keepingCapacity: true)
        job.topic.append(contentsOf: topic)
        job.payload.removeAll(keepingCapacity: true)
        job.payload.append(contentsOf: payload)
        condition.lock()
        states[slot] = .waiting
        count += 1
        condition.signal()
        condition.unlock()
    }

    /// Completes every job in flight, oldest first.
    func completeAll(_ complete: (Job) -> Void) {
        while count > 0 { completeOldest(complete) }
    }

    /// Waits for the oldest job (parsing a waiting one meanwhile, or the oldest
    /// itself if no thread has taken it yet), hands it to `complete`, frees its slot.
    private func completeOldest(_ complete: (Job) -> Void) {
        condition.lock()
        while states[head] != .parsed {
            if let slot = firstWaiting() {
                states[slot] = .parsing
                condition.unlock()
                jobs[slot].parse()
                condition.lock()
                states[slot] = .parsed
            } else {
                condition.wait()
            }
        }
        condition.unlock()
        let job = jobs[head]
        complete(job)
        job.host = nil
        condition.lock()
        states[head] = .free
        head = (head + 1) % Self.capacity
        count -= 1
        condition.unlock()
    }

    /// The oldest waiting slot; call with the lock held.
    private func firstWaiting() -> Int? {
        for i in 0..<count {
            let slot = (head + i) % Self.capacity
            if states[slot] == .waiting { return slot }
        }
        return nil
    }

    private func helperLoop() {
        // Foundation's `Thread.name` does not reach the kernel on Linux (and Glibc's
        // module has no pthread_setname_np); the thread's comm file does, so that
        // `top -H`, /proc and `latentd throughput` can tell the helper apart.
        let comm = open("/proc/thread-self/comm", O_WRONLY)
        if comm >= 0 {
            _ = "latentd-parse".withCString { write(comm, $0, strlen($0)) }
            close(comm)
        }
        condition.lock()
        while !stopping {
            guard let slot = firstWaiting() else {
                condition.wait()
                continue
            }
            states[slot] = .parsing
            condition.unlock()
            jobs[slot].parse()
            condition.lock()
            states[slot] = .parsed
            condition.broadcast()
        }
        condition.unlock()
    }
}
