import Glibc
import Synchronization

/// Durable, generational checkpoint files for one state directory (SPEC §6).
///
/// Each write is a new generation `<model>.<generation:12 digits>.ckpt`, made atomic
/// the POSIX way (temporary file, fsync, rename, fsync of the directory), so a crash
/// at any point leaves either the old or the new file, never a torn one; the
/// checksum catches what the disk itself gets wrong. The last `keep` generations
/// are kept so that one bad file costs one interval of learning, not all of it.
///
/// File format, all integers little-endian:
///
///     "LATENTD\0"                8 bytes
///     format version             UInt32 (= 1)
///     generation                 UInt64
///     config fingerprint         UInt64
///     model name                 UInt32 length + UTF-8
///     payload                    UInt64 length + bytes
///     CRC-32 of all of the above UInt32
///
/// The store interprets nothing in the payload and does not judge fingerprints: the
/// caller refuses a checkpoint whose fingerprint no longer matches its config.
///
/// Thread safety: all state is immutable or behind a mutex, and writes are
/// serialized, so the daemon can encode on its socket thread and write from a
/// background thread (ingestion never waits for fsync).
public final class CheckpointStore: Sendable {
    public static let magic: [UInt8] = Array("LATENTD\0".utf8)
    public static let formatVersion: UInt32 = 1
    /// Size of a file with an empty name and payload: fixed fields plus the CRC.
    static let minimumSize = 8 + 4 + 8 + 8 + 4 + 8 + 4

    public let directory: String
    public let keep: Int
    /// Newest generation seen per model (on disk, valid or not), so numbers never repeat.
    private let newestGeneration = Mutex<[String: UInt64]>([:])

    /// Creates the directory (and its parents) if missing, so an unusable `state_dir`
    /// is reported at start-up rather than at the first checkpoint.
    public init(directory: String, keep: Int) throws(CheckpointError) {
        self.directory = directory.isEmpty ? "." : directory
        self.keep = max(1, keep)
        try makeDirectories(self.directory)
    }

    public func path(model: String, generation: UInt64) -> String {
        directory + "/" + Self.fileName(model: model, generation: generation)
    }

    // MARK: Writing

    /// Writes `payload` as the model's next generation, then removes generations
    /// beyond `keep` and temporary files left by earlier crashes.
    public func write(model: String, fingerprint: UInt64, payload: [UInt8]) throws(CheckpointError) -> WrittenCheckpoint {
        guard Self.isValidModelName(model) else { throw .invalidModelName(model) }
        return try newestGeneration.withLock { (newest: inout [String: UInt64]) throws(CheckpointError) -> WrittenCheckpoint in
            let known: UInt64
            if let cached = newest[model] { known = cached } else {
                known = try listDirectory(directory).compactMap { Self.generation(ofFile: $0, model: model) }.max() ?? 0
            }
            let generation = known + 1
            let finalPath = path(model: model, generation: generation)
            let tempPath = directory + "/." + Self.fileName(model: model, generation: generation) + ".tmp"
            let size = try writeDurably(
                to: tempPath, model: model, generation: generation, fingerprint: fingerprint, payload: payload)
            guard rename(tempPath, finalPath) == 0 else {
                let error = CheckpointError.system(operation: "rename to \(finalPath)", path: tempPath, errno: errno)
                unlink(tempPath)
                throw error
            }
            // Recorded before the directory fsync: should that fail, the file may still
            // exist, and the next write must not reuse its number.
            newest[model] = generation
            try syncDirectory()
            var result = WrittenCheckpoint(path: finalPath, generation: generation, size: size)
            prune(model: model, into: &result)
            return result
        }
    }

    private func writeDurably(
        to path: String, model: String, generation: UInt64, fingerprint: UInt64, payload: [UInt8]
    ) throws(CheckpointError) -> Int {
        var header = Self.magic
        header.appendLittleEndian(Self.formatVersion)
        header.appendLittleEndian(generation)
        header.appendLittleEndian(fingerprint)
        header.appendLittleEndian(UInt32(model.utf8.count))
        header.append(contentsOf: model.utf8)
        header.appendLittleEndian(UInt64(payload.count))
        var crc = CRC32()
        crc.update(header)
        crc.update(payload)
        var trailer: [UInt8] = []
        trailer.appendLittleEndian(crc.value)

        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .system(operation: "create", path: path, errno: errno) }
        do throws(CheckpointError) {
            for part in [header, payload, trailer] {
                // Array.withUnsafeBytes only rethrows untyped errors, hence the Result.
                try part.withUnsafeBytes { bytes in
                    Result { () throws(CheckpointError) in try writeAll(fd, bytes, path: path) }
                }.get()
            }
            guard fsync(fd) == 0 else { throw .system(operation: "fsync", path: path, errno: errno) }
            guard close(fd) == 0 else { throw .system(operation: "close", path: path, errno: errno) }
        } catch {
            close(fd)
            unlink(path)
            throw error
        }
        return header.count + payload.count + trailer.count
    }

    /// Makes the rename itself durable: without this a crash can forget the new name.
    private func syncDirectory() throws(CheckpointError) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .system(operation: "open directory", path: directory, errno: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw .system(operation: "fsync directory", path: directory, errno: errno) }
    }

    /// Cleanup after a successful write. Failures here do not fail the write (the new
    /// checkpoint is safe); they are returned as warnings for the log.
    private func prune(model: String, into result: inout WrittenCheckpoint) {
        let names: [String]
        do { names = try listDirectory(directory) } catch {
            result.warnings.append(error.description)
            return
        }
        var old = names.compactMap { name in Self.generation(ofFile: name, model: model).map { ($0, name) } }
        old.sort { $0.0 > $1.0 }
        let stale = old.dropFirst(keep).map(\.1) + names.filter { Self.isTemporaryFile($0, model: model) }
        for name in stale {
            let path = directory + "/" + name
            if unlink(path) == 0 || errno == ENOENT {
                result.removed.append(path)
            } else {
                result.warnings.append(CheckpointError.system(operation: "remove", path: path, errno: errno).description)
            }
        }
    }

    // MARK: Reading

    /// The newest checkpoint of `model` that is intact, plus every newer file that was
    /// not (for the log). Throws only if the directory itself cannot be read: starting
    /// from scratch because of, say, a permission problem would silently lose state.
    public func loadNewest(model: String) throws(CheckpointError) -> CheckpointLoadResult {
        let generations = try listDirectory(directory)
            .compactMap { Self.generation(ofFile: $0, model: model) }
            .sorted(by: >)
        newestGeneration.withLock { $0[model] = max($0[model] ?? 0, generations.first ?? 0) }
        var result = CheckpointLoadResult()
        for generation in generations {
            let path = path(model: model, generation: generation)
            do throws(CheckpointError) {
                let file = try Self.read(path: path)
                guard file.model == model else {
                    throw .modelNameMismatch(path: path, expected: model, found: file.model)
                }
                result.newest = file
                break
            } catch {
                result.rejected.append(RejectedCheckpoint(path: path, error: error))
            }
        }
        return result
    }

    /// Reads and verifies one checkpoint file (also what `latentd inspect` uses).
    public static func read(path: String) throws(CheckpointError) -> CheckpointFile {
        let bytes = try readWholeFile(path)
        return try bytes.withUnsafeBytes { b in
            Result { () throws(CheckpointError) -> CheckpointFile in try decode(b, path: path) }
        }.get()
    }

    static func decode(_ b: UnsafeRawBufferPointer, path: String) throws(CheckpointError) -> CheckpointFile {
        func truncated(atLeast expected: Int) -> CheckpointError {
            .truncated(path: path, size: b.count, expected: expected, exact: false)
        }
        let magicCount = min(b.count, magic.count)
        guard b.prefix(magicCount).elementsEqual(magic.prefix(magicCount)) else { throw .badMagic(path: path) }
        guard b.count >= 12 else { throw truncated(atLeast: minimumSize) }
        let version = b.littleEndian(UInt32.self, at: 8)
        guard version == formatVersion else { throw .unsupportedVersion(path: path, version: version) }
        guard b.count >= 32 else { throw truncated(atLeast: minimumSize) }
        let nameLength = Int(b.littleEndian(UInt32.self, at: 28))
        guard b.count >= 32 + nameLength + 8 else { throw truncated(atLeast: minimumSize + nameLength) }
        let payloadLength = b.littleEndian(UInt64.self, at: 32 + nameLength)
        // Compared as UInt64 so an absurd (corrupt) length cannot overflow Int.
        let expected = UInt64(minimumSize + nameLength).addingReportingOverflow(payloadLength)
        guard !expected.overflow, expected.partialValue <= UInt64(Int.max),
              b.count >= Int(expected.partialValue) else {
            let total = expected.overflow ? Int.max : Int(clamping: expected.partialValue)
            throw .truncated(path: path, size: b.count, expected: total, exact: true)
        }
        let total = Int(expected.partialValue)
        guard b.count == total else { throw .trailingData(path: path, size: b.count, expected: total) }
        let stored = b.littleEndian(UInt32.self, at: total - 4)
        let computed = CRC32.checksum(UnsafeRawBufferPointer(rebasing: b[0..<(total - 4)]))
        guard stored == computed else {
            throw .checksumMismatch(path: path, stored: stored, computed: computed)
        }
        let nameBytes = b[32..<(32 + nameLength)]
        guard let model = String(validating: nameBytes, as: UTF8.self) else {
            throw .invalidModelName(String(decoding: nameBytes, as: UTF8.self))
        }
        return CheckpointFile(
            path: path, formatVersion: version,
            generation: b.littleEndian(UInt64.self, at: 12),
            fingerprint: b.littleEndian(UInt64.self, at: 20),
            model: model,
            payload: Array(b[(40 + nameLength)..<(total - 4)]))
    }

    // MARK: Names

    static func fileName(model: String, generation: UInt64) -> String {
        let digits = String(generation)
        return model + "." + String(repeating: "0", count: max(0, 12 - digits.count)) + digits + ".ckpt"
    }

    /// The generation in `<model>.<digits>.ckpt`, or nil if the name is not one of
    /// this model's checkpoints. Exact, so model `a` never picks up model `a.b`'s files.
    static func generation(ofFile name: String, model: String) -> UInt64? {
        let prefix = model + "."
        let suffix = ".ckpt"
        guard name.hasPrefix(prefix), name.hasSuffix(suffix) else { return nil }
        let digits = name.utf8.dropFirst(prefix.utf8.count).dropLast(suffix.utf8.count)
        guard digits.count >= 12, digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { return nil }
        return UInt64(Substring(digits))
    }

    static func isTemporaryFile(_ name: String, model: String) -> Bool {
        guard name.hasPrefix("."), name.hasSuffix(".tmp") else { return false }
        return generation(ofFile: String(name.dropFirst().dropLast(4)), model: model) != nil
    }

    /// SPEC §3 model names ([A-Za-z0-9_.-]+); anything else could escape the directory.
    static func isValidModelName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && name.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || ((b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A)
                || b == UInt8(ascii: "_") || b == UInt8(ascii: ".") || b == UInt8(ascii: "-")
        }
    }
}
