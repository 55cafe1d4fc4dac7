import ArgumentParser
import Foundation
import LatentDaemon

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a checkpoint file's header and model as JSON.",
        discussion: "Exits 1 with the reason when the file is corrupt (checksum, truncation, format)."
    )

    @Argument(help: "A checkpoint file, e.g. state/room1.000000000042.ckpt.")
    var file: String

    func run() throws {
        do {
            print(try CheckpointInspector.json(path: file))
        } catch {
            FileHandle.standardError.write(Data("\(file): \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
