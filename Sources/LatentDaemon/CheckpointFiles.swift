import Glibc

/// One verified checkpoint file.
public struct CheckpointFile: Sendable, Equatable {
    public var path: String
    public var formatVersion: UInt32
    public var generation: UInt64
    /// Fingerprint of the model config that wrote it; the caller refuses a mismatch.
    public var fingerprint: UInt64
    public var model: String
    public var payload: [UInt8]
}

public struct WrittenCheckpoint: Sendable, Equatable {
    public var path: String
    public var generation: UInt64
    /// Bytes on disk.
    public var size: Int
    /// Older generations and stale temporary files deleted after the write.
    public var removed: [String] = []
    /// Cleanup problems; the checkpoint itself is safely written. Worth a log line.
    public var warnings: [String] = []
}

public struct CheckpointLoadResult: Sendable {
    /// The newest intact checkpoint, or nil if there is none (a fresh start).
    public var newest: CheckpointFile?
    /// Newer files that were skipped, newest first, each with why.
    public var rejected: [RejectedCheckpoint] = []
}

public struct RejectedCheckpoint: Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var error: CheckpointError
    /// Why, without the path: "checksum mismatch", "truncated: 120 of 4096 bytes".
    public var reason: String { error.reason }
    public var description: String { "\(path): \(reason)" }
}

/// Checkpoint failures, each naming the file and, for system calls, the errno text.
public enum CheckpointError: Error, Equatable, Sendable, CustomStringConvertible {
    case system(operation: String, path: String, errno: Int32)
    /// `exact: false` when the file ends before its lengths could even be read.
    case truncated(path: String, size: Int, expected: Int, exact: Bool)
    case trailingData(path: String, size: Int, expected: Int)
    case badMagic(path: String)
    case unsupportedVersion(path: String, version: UInt32)
    case checksumMismatch(path: String, stored: UInt32, computed: UInt32)
    case modelNameMismatch(path: String, expected: String, found: String)
    case invalidModelName(String)

    public var path: String? {
        switch self {
        case let .system(_, path, _), let .truncated(path, _, _, _), let .trailingData(path, _, _),
             let .badMagic(path), let .unsupportedVersion(path, _), let .checksumMismatch(path, _, _),
             let .modelNameMismatch(path, _, _):
            return path
        case .invalidModelName:
            return nil
        }
    }

    public var reason: String {
        switch self {
        case let .system(operation, _, code):
            return "\(operation) failed: \(String(cString: strerror(code)))"
        case let .truncated(_, size, expected, exact):
            return "truncated: \(size) of \(exact ? "" : "at least ")\(expected) bytes"
        case let .trailingData(_, size, expected):
            return "\(size - expected) unexpected bytes after the checksum (\(size) bytes, expected \(expected))"
        case .badMagic:
            return "bad magic (not a latentd checkpoint)"
        case let .unsupportedVersion(_, version):
            return "unsupported format version \(version) (this latentd reads version \(CheckpointStore.formatVersion))"
        case let .checksumMismatch(_, stored, computed):
            return "checksum mismatch (stored \(hex(stored)), computed \(hex(computed)))"
        case let .modelNameMismatch(_, expected, found):
            return "model name mismatch: file is for \"\(found)\", expected \"\(expected)\""
        case let .invalidModelName(name):
            return "invalid model name \"\(name)\" (allowed: letters, digits, '_', '.', '-')"
        }
    }

    public var description: String {
        path.map { "\($0): \(reason)" } ?? reason
    }
}

private func hex(_ v: UInt32) -> String {
    let digits = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}

// MARK: - POSIX helpers

/// `mkdir -p`: an existing directory is fine, an existing non-directory is not.
func makeDirectories(_ path: String) throws(CheckpointError) {
    var prefix = path.hasPrefix("/") ? "/" : ""
    for component in path.split(separator: "/") {
        prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + component
        if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
            throw .system(operation: "create directory", path: prefix, errno: errno)
        }
    }
    var info = stat()
    guard stat(path, &info) == 0 else { throw .system(operation: "stat", path: path, errno: errno) }
    guard info.st_mode & S_IFMT == S_IFDIR else { throw .system(operation: "use as directory", path: path, errno: ENOTDIR) }
}

func listDirectory(_ path: String) throws(CheckpointError) -> [String] {
    guard let dir = opendir(path) else { throw .system(operation: "open directory", path: path, errno: errno) }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: &entry.pointee.d_name) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        if name != "." && name != ".." { names.append(name) }
    }
    return names
}

func readWholeFile(_ path: String) throws(CheckpointError) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw .system(operation: "open", path: path, errno: errno) }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw .system(operation: "stat", path: path, errno: errno) }
    // One spare byte so that EOF is seen without regrowing; reading until EOF rather
    // than trusting st_size copes with a file that changes under us.
    var bytes = [UInt8](repeating: 0, count: Int(info.st_size) + 1)
    var filled = 0
    while true {
        if filled == bytes.count { bytes.append(contentsOf: repeatElement(0, count: 4096)) }
        let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
        if n < 0 {
            if errno == EINTR { continue }
            throw .system(operation: "read", path: path, errno: errno)
        }
        if n == 0 { break }
        filled += n
    }
    bytes.removeLast(bytes.count - filled)
    return bytes
}

func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(CheckpointError) {
    var offset = 0
    while offset < bytes.count {
        let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
        if n < 0 {
            if errno == EINTR { continue }
            throw .system(operation: "write", path: path, errno: errno)
        }
        offset += n
    }
}

extension Array where Element == UInt8 {
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}

extension UnsafeRawBufferPointer {
    func littleEndian<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        T(littleEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}
