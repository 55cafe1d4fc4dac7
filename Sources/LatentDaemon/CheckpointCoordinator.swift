import Dispatch
import Foundation
import Logging
import Synchronization

/// Writes checkpoints off the socket thread. The socket thread only encodes
/// each model's state (a copy of a few arrays) and hands the bytes over; the
/// fsyncs happen on a serial queue, so ingestion never waits for the disk.
final class CheckpointCoordinator: Sendable {
    let store: CheckpointStore
    let logger: Logger
    private let queue = DispatchQueue(label: "latentd.checkpoints")
    /// Last written generation and path per model, for `status`.
    let written = Mutex<[String: WrittenCheckpoint]>([:])
    let failures = Mutex<Int>(0)

    init(store: CheckpointStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    struct Snapshot: Sendable {
        var model: String
        var fingerprint: UInt64
        var version: Int
        var payload: [UInt8]
    }

    /// Queues snapshots for writing; returns at once.
    func writeInBackground(_ snapshots: [Snapshot]) {
        queue.async { for s in snapshots { _ = self.write(s) } }
    }

    /// Writes snapshots and waits (control `checkpoint`, shutdown): earlier queued
    /// writes finish first, so generations stay in order.
    func writeNow(_ snapshots: [Snapshot]) -> [(Snapshot, Result<WrittenCheckpoint, CheckpointError>)] {
        queue.sync { snapshots.map { ($0, self.write($0)) } }
    }

    private func write(_ s: Snapshot) -> Result<WrittenCheckpoint, CheckpointError> {
        do {
            let w = try store.write(model: s.model, fingerprint: s.fingerprint, payload: s.payload)
            written.withLock { $0[s.model] = w }
            logger.debug("checkpoint written", metadata: ["model": "\(s.model)", "path": "\(w.path)", "version": "\(s.version)"])
            return .success(w)
        } catch {
            failures.withLock { $0 += 1 }
            logger.error("checkpoint of model \(s.model) failed: \(error)")
            return .failure(error)
        }
    }
}
