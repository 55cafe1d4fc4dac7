import Foundation
import Testing

@Suite struct CommandLineTests {
    static var repository: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized }

    @Test func shippedConfigIsValid() throws {
        let (status, output) = try runLatentd(["check-config", "--config", Self.repository.appendingPathComponent("config/latentd.yaml").path])
        #expect(status == 0, "\(output)")
        let (s2, o2) = try runLatentd(["check-config", "--config", Self.repository.appendingPathComponent("config/latentd.systemd.yaml").path])
        #expect(s2 == 0, "\(o2)")
    }

    @Test func badConfigNamesEachProblemWithItsPath() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).yaml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try """
            models:
              - {name: a, topic: a, kind: gmm, dimensions: 2, components: 2}
              - {name: b, topic: b, kind: gmm, dimensions: 2, components: 0, learning: {alpah: 0.7}}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let (status, output) = try runLatentd(["check-config", "--config", path])
        #expect(status == 1)
        #expect(output.contains("models[1].learning.alpah"), "\(output)")
        let (runStatus, runOutput) = try runLatentd(["run", "--config", path])
        #expect(runStatus == 1 && runOutput.contains("alpah"), "\(runOutput)")
    }

    @Test func versionAndHelp() throws {
        let (status, output) = try runLatentd(["--version"])
        #expect(status == 0 && output.contains("0."))
        for command in ["run", "check-config", "inspect", "demo", "bench"] {
            let (s, o) = try runLatentd([command, "--help"])
            #expect(s == 0 && o.contains("USAGE"), "\(command) --help: \(o)")
        }
    }

    @Test func inspectRefusesAFileThatIsNotACheckpoint() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("junk-\(UUID().uuidString).ckpt").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "definitely not a checkpoint".write(toFile: path, atomically: true, encoding: .utf8)
        let (status, output) = try runLatentd(["inspect", path])
        #expect(status == 1 && output.contains(path), "\(output)")
    }

    @Test func demoRunsToTheEnd() throws {
        let (status, output) = try runLatentd(["demo", "--observations", "3000", "--rate", "20000", "--machines", "3"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("learned regimes") && output.contains("demo finished"), "\(output)")
        // The HMM half: every machine's sequence ended with its Viterbi path counted.
        #expect(output.contains("machines: 3 sequences (m1..m3)"), "\(output)")
        for label in ["filtered", "smoothed", "viterbi"] {
            #expect(output.contains("\n  \(label) "), "\(output)")
        }
        #expect(!output.contains("timed out"), "\(output)")
    }

    /// `bench --parse` reads one payload per line (blank lines skipped but counted, so
    /// a rejection names the file's own line number) and prints one JSON line.
    @Test func benchParseTimesAFileAndNamesARejectedLine() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("payloads-\(UUID().uuidString).txt").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "{\"xs\":[[1,2],[3,4]]}\n\n{\"x\":[5,6]}\n".write(toFile: path, atomically: true, encoding: .utf8)
        let (status, output) = try runLatentd(["bench", "--parse", path, "--dimensions", "2", "--observations", "4", "--repeats", "1"])
        #expect(status == 0, "\(output)")
        let line = try #require(output.split(separator: "\n").last.map(String.init))
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        #expect(object?["payloads"] as? Int == 2, "\(output)")
        #expect(object?["n"] as? Int == 5, "\(output)")  // 2 + 1 + 2 rows reach 4
        try "{\"xs\":[[1,2]]}\n\n{\"x\":[5,6,7]}\n".write(toFile: path, atomically: true, encoding: .utf8)
        let (badStatus, badOutput) = try runLatentd(["bench", "--parse", path, "--dimensions", "2"])
        #expect(badStatus != 0)
        #expect(badOutput.contains("line 3:") && badOutput.contains(path), "\(badOutput)")
    }
}
