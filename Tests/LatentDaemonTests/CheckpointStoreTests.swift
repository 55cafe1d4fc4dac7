import Dispatch
import Glibc
import Testing
@testable import LatentDaemon

/// A fresh empty directory under /tmp, removed by `removeTree` at the end of a test.
func makeTemporaryDirectory() -> String {
    var template = Array("/tmp/latentd-test-XXXXXX".utf8CString)
    let path = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    precondition(path != nil, "mkdtemp failed")
    return String(cString: path!)
}

func removeTree(_ path: String) {
    if let names = try? listDirectory(path) {
        for name in names {
            let child = path + "/" + name
            if unlink(child) != 0 { removeTree(child) }
        }
    }
    rmdir(path)
}


/// Overwrites part of a file in place (to simulate disk corruption).
func patch(_ path: String, at offset: Int, _ bytes: [UInt8]) {
    let fd = open(path, O_WRONLY)
    precondition(fd >= 0)
    _ = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(offset)) }
    close(fd)
}

func fileSize(_ path: String) -> Int {
    var info = stat()
    return stat(path, &info) == 0 ? Int(info.st_size) : -1
}

func touch(_ path: String) {
    let fd = open(path, O_WRONLY | O_CREAT, 0o644)
    precondition(fd >= 0)
    close(fd)
}

@Suite struct CheckpointStoreTests {
    @Test func roundTripAndFormat() throws {
        let dir = makeTemporaryDirectory()
        defer { removeTree(dir) }
        let store = try CheckpointStore(directory: dir + "/state/nested", keep: 3)
        let payload = Array("sufficient statistics".utf8)
        let written = try store.write(model: "room1", fingerprint: 0xDEAD_BEEF, payload: payload)
        #expect(written.generation == 1)
        #expect(written.path == dir + "/state/nested/room1.000000000001.ckpt")
        #expect(written.size == fileSize(written.path))

        let loaded = try store.loadNewest(model: "room1")
        #expect(loaded.rejected.isEmpty)
        let file = try #require(loaded.newest)
        #expect(file == CheckpointFile(path: written.path, formatVersion: 1, generation: 1,
                                       fingerprint: 0xDEAD_BEEF, model: "room1", payload: payload))
        #expect(try CheckpointStore.read(path: written.path) == file)

        // The documented layout, byte for byte.
        let bytes = try readWholeFile(written.path)
        #expect(Array(bytes[0..<8]) == Array("LATENTD\0".utf8))
        #expect(Array(bytes[8..<12]) == [1, 0, 0, 0])
        #expect(Array(bytes[12..<20]) == [1, 0, 0, 0, 0, 0, 0, 0])
        #expect(Array(bytes[20..<28]) == [0xEF, 0xBE, 0xAD, 0xDE, 0, 0, 0, 0])
        #expect(Array(bytes[28..<32]) == [5, 0, 0, 0])
        #expect(Array(bytes[32..<37]) == Array("room1".utf8))
        #expect(Array(bytes[37..<45]) == [UInt8(payload.count), 0, 0, 0, 0, 0, 0, 0])
        #expect(Array(bytes[45..<(45 + payload.count)]) == payload)
        let crc = CRC32.checksum(Array(bytes.dropLast(4)))
        #expect(Array(bytes.suffix(4)) == withUnsafeBytes(of: crc.littleEndian) { Array($0) })

        #expect(try CheckpointStore(directory: dir + "/empty", keep: 1).loadNewest(model: "room1").newest == nil)
    }

    @Test func keepsTheNewestGenerations() throws {
        let dir = makeTemporaryDirectory()
        defer { removeTree(dir) }
        let store = try CheckpointStore(directory: dir, keep: 3)
        for i in 1...5 {
            let w = try store.write(model: "m", fingerprint: 1, payload: [UInt8(i)])
            #expect(w.generation == UInt64(i))
            #expect(w.removed == (i > 3 ? [store.path(model: "m", generation: UInt64(i - 3))] : []))
            #expect(w.warnings.isEmpty)
        }
        #expect(try listDirectory(dir).sorted() == ["m.000000000003.ckpt", "m.000000000004.ckpt", "m.000000000005.ckpt"])
        // A restarted daemon (new store) continues the numbering from disk.
        let restarted = try CheckpointStore(directory: dir, keep: 3)
        #expect(try restarted.loadNewest(model: "m").newest?.payload == [5])
        #expect(try restarted.write(model: "m", fingerprint: 1, payload: []).generation == 6)
        #expect(try CheckpointStore(directory: dir, keep: 2).write(model: "m", fingerprint: 1, payload: []).generation == 7)
    }

    @Test(arguments: [
        (45 + 2, [0xFF], "checksum mismatch"),             // a payload byte
        (13, [0x07], "checksum mismatch"),                 // the generation field
        (0, Array("NOTLATEN".utf8), "bad magic (not a latentd checkpoint)"),
        (8, [7], "unsupported format version 7 (this latentd reads version 1)"),
        (37, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], "truncated"),  // absurd payload length
    ] as [(Int, [UInt8], String)])
    func corruptNewestFallsBackToPrevious(offset: Int, bytes: [UInt8], reason: String) throws {
        let dir = makeTemporaryDirectory()
        defer { removeTree(dir) }
        let store = try CheckpointStore(directory: dir, keep: 3)
        _ = try store.write(model: "room1", fingerprint: 9, payload: Array(repeating: 1, count: 100))
        let newest = try store.write(model: "room1", fingerprint: 9, payload: Array(repeating: 2, count: 100))
        patch(newest.path, at: offset, bytes)

        let loaded = try store.loadNewest(model: "room1")
        #expect(loaded.newest?.generation == 1)
        #expect(loaded.newest?.payload == Array(repeating: 1, count: 100))
        #expect(loaded.rejected.map(\.path) == [newest.path])
        #expect(loaded.rejected.first?.reason.hasPrefix(reason) == true, "\(loaded.rejected)")
        #expect(throws: CheckpointError.self) { try CheckpointStore.read(path: newest.path) }
        // The next generation never reuses the corrupt file's number.
        #expect(try store.write(model: "room1", fingerprint: 9, payload: []).generation == 3)
    }

    @Test func truncatedFilesSayHowMuchIsMissing() throws {
        let dir = makeTemporaryDirectory()
        defer { removeTree(dir) }
        let store = try CheckpointStore(directory: dir, keep: 5)
        _ = try store.write(model: "m", fingerprint: 0, payload: [1])
        let newest = try store.write(model: "m", fingerprint: 0, payload: Array(repeating: 7, count: 4051))
        #expect(newest.size == 4096)
        #expect(truncate(newest.path, 120) == 0)
        var loaded = try store.loadNewest(model: "m")
        #expect(loaded.newest?.payload == [1])
        #expect(loaded.rejected.map(\.reason) == ["truncated: 120 of 4096 bytes"])

        #expect(truncate(newest.path, 20) == 0)
        loaded = try store.loadNewest(model: "m")
        #expect(loaded.rejected.map(\.reason) == ["truncated: 20 of at least 44 bytes"])
        #expect(truncate(newest.path, 0) == 0)
        loaded = try store.loadNewest(model: "m")
        #expect(loaded.rejected.map(\.reason) == ["truncated: 0 of at least 44 bytes"])

        let error = #expect(throws: CheckpointError.self) { try CheckpointStore.read(path: newest.path) }
        #expect(error?.description == newest.path + ": truncated: 0 of at least 44 bytes")
        let missing = #expect(throws: CheckpointError.self) { try CheckpointStore.read(path: dir + "/nope.ckpt") }
        #expect(missing?.description == dir + "/nope.ckpt: open failed: No such file or directory")
    }

    @Test func temporaryLeftoversAreIgnoredAndCleaned() throws {
        let dir = makeTemporaryDirectory()
        defer { removeTree(dir) }
        let store = try CheckpointStore(directory: dir, keep: 3)
        _ = try store.write(model: "m", fingerprint: 0, payload: [1])
        touch(dir + "/.m.000000000007.ckpt.tmp")   // a crash mid-write
        touch(dir + "/.m.b.000000000002.ckpt.tmp") // another model's, left alone
        touch(dir + "/m.notes")
        let loaded = try store.loadNewest(model: "m")
        #expect(loaded.newest?.generation == 1 && loaded.rejected.isEmpty)

        let w = try store.write(model: "m", fingerprint: 0, payload: [2])
        #expect(w.generation == 2)
        #expect(w.removed == [dir + "/.m.000000000007.ckpt.tmp"])
        #expect(try listDirectory(dir).sorted()
            == [".m.b.000000000002.ckpt.tmp", "m.000000000001.ckpt", "m.000000000002.ckpt", "m.notes"])
    }

    @Test func otherModelsFilesAreNotLoaded() throws {
        let dir = makeTemporaryDirectory()
        defer { removeTree(dir) }
        let store = try CheckpointStore(directory: dir, keep: 3)
        _ = try store.write(model: "a", fingerprint: 1, payload: [1])
        for _ in 0..<4 { _ = try store.write(model: "a.b", fingerprint: 2, payload: [2]) }
        let b = try store.write(model: "b", fingerprint: 3, payload: [3])
        #expect(try store.loadNewest(model: "a").newest?.payload == [1])
        #expect(try store.loadNewest(model: "a.b").newest?.generation == 4)
        // Writing "a.b" five times must not have pruned "a"'s only file, nor vice versa.
        #expect(try listDirectory(dir).filter { $0.hasPrefix("a.0") } == ["a.000000000001.ckpt"])

        // A file renamed into another model's name is refused, not loaded.
        #expect(rename(b.path, dir + "/a.000000000009.ckpt") == 0)
        let loaded = try store.loadNewest(model: "a")
        #expect(loaded.newest?.payload == [1])
        #expect(loaded.rejected.map(\.reason) == [#"model name mismatch: file is for "b", expected "a""#])
    }

    @Test func multiMegabytePayload() throws {
        let dir = makeTemporaryDirectory()
        defer { removeTree(dir) }
        let store = try CheckpointStore(directory: dir, keep: 1)
        var rng = SeededGenerator(seed: 5)
        let payload = (0..<(6 << 20) / 8).flatMap { _ in withUnsafeBytes(of: rng.next()) { Array($0) } }
        _ = try store.write(model: "big", fingerprint: 7, payload: payload)
        let second = try store.write(model: "big", fingerprint: 8, payload: payload.reversed())
        let loaded = try #require(try store.loadNewest(model: "big").newest)
        #expect(loaded.generation == 2 && loaded.fingerprint == 8)
        #expect(loaded.payload == payload.reversed())
        #expect(try listDirectory(dir) == ["big.000000000002.ckpt"])
        #expect(second.removed == [dir + "/big.000000000001.ckpt"])
    }

    /// The daemon writes from a background thread; concurrent callers still get distinct
    /// generations and intact files.
    @Test func concurrentWritesGetDistinctGenerations() throws {
        let dir = makeTemporaryDirectory()
        defer { removeTree(dir) }
        let store = try CheckpointStore(directory: dir, keep: 100)
        let results = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: 20)
        defer { results.deallocate() }
        nonisolated(unsafe) let slots = results
        DispatchQueue.concurrentPerform(iterations: 20) { i in
            slots[i] = (try? store.write(model: "m", fingerprint: 0, payload: [UInt8(i)]).generation) ?? 0
        }
        #expect(Set(results).count == 20 && !results.contains(0))
        #expect(try store.loadNewest(model: "m").newest?.generation == 20)
    }

    @Test func errorsNameThePathAndCause() throws {
        let dir = makeTemporaryDirectory()
        defer { removeTree(dir) }
        touch(dir + "/file")
        let error = #expect(throws: CheckpointError.self) { try CheckpointStore(directory: dir + "/file/sub", keep: 3) }
        #expect(error?.description == dir + "/file/sub: create directory failed: Not a directory")
        let store = try CheckpointStore(directory: dir, keep: 3)
        #expect(throws: CheckpointError.invalidModelName("../x")) {
            try store.write(model: "../x", fingerprint: 0, payload: [])
        }
    }
}
