import BioRNN
import Foundation

/// A learning rule computed by another program, in any language (the ValidatingALearningRule
/// article, “Rules in other languages”). For every gradient BioRNN writes the model and the batch
/// as JSON files (the formats of <doc:FileFormats> that `biornn gradient` reads) and runs
///
///     /bin/sh -c 'COMMAND MODEL.json BATCH.json'
///
/// The program prints on stdout the loss and gradient in the format `biornn gradient --json`
/// prints, optionally with the per-step `increments` of an online rule, and exits 0. It must
/// derive everything it needs from the two files: the kit renumbers units, zeroes W_rec and
/// changes data, and expects the rule to follow.
public final class ExternalRule: LearningRule, @unchecked Sendable {
    public let command: String
    public let name: String
    public let exactRelations: Set<ExactRelation>
    /// Whether the program prints `increments` (seen on the first call).
    public private(set) var reportsIncrements = false
    let folder: URL
    private let lock = NSLock()
    private var calls = 0
    private var failures: [String] = []

    /// Runs the program once on `model` and `batch` and throws, naming the command, if that run fails.
    public init(command: String, name: String, exactRelations: Set<ExactRelation>, firstRunOn model: RNN, _ batch: Batch) throws {
        (self.command, self.name, self.exactRelations) = (command, name, exactRelations)
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("biornn-conform-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        reportsIncrements = try run(model, batch).increments != nil
    }

    deinit { try? FileManager.default.removeItem(at: folder) }

    /// The failures of the program since it was made (at most the first five), for the report.
    public var programFailures: [String] { lock.withLock { failures } }

    public func gradient(of model: RNN, on batch: Batch) -> LossAndGradient {
        do {
            return try run(model, batch).result
        } catch {
            record(error)
            var nan = Parameters(zerosLike: model.parameters)
            for (_, path) in Parameters.tensors { nan[keyPath: path] = nan[keyPath: path].map { _ in .nan } }
            return LossAndGradient(loss: .nan, gradients: nan)
        }
    }

    /// The program's per-step increments ([] when it failed or printed none).
    public func increments(of model: RNN, on batch: Batch) -> [LossAndGradient] {
        do { return try run(model, batch).increments ?? [] } catch { record(error); return [] }
    }

    func record(_ error: Error) { lock.withLock { if failures.count < 5 { failures.append("\(error)") } } }

    func run(_ model: RNN, _ batch: Batch) throws -> (result: LossAndGradient, increments: [LossAndGradient]?) {
        let call = lock.withLock { calls += 1; return calls }
        let files = ["model", "batch", "stdout", "stderr"].map { folder.appendingPathComponent("\(call)-\($0)") }
        defer { for f in files { try? FileManager.default.removeItem(at: f) } }
        try Data(model.json.serialized.utf8).write(to: files[0])
        try Data(batch.json.serialized.utf8).write(to: files[1])
        _ = FileManager.default.createFile(atPath: files[2].path, contents: nil)
        _ = FileManager.default.createFile(atPath: files[3].path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "\(command) '\(files[0].path)' '\(files[1].path)'"]
        process.standardOutput = try FileHandle(forWritingTo: files[2])
        process.standardError = try FileHandle(forWritingTo: files[3])
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let stderr = (try? String(contentsOf: files[3], encoding: .utf8)) ?? ""
            let last = stderr.split(separator: "\n").last.map { ": \($0)" } ?? ""
            throw InputError("exec: '\(command)' exited with status \(process.terminationStatus)\(last)")
        }
        let json = try JSONValue.parse(Data(contentsOf: files[2]), source: "exec: the output of '\(command)'")
        let source = "exec: the output of '\(command)'"
        return (try LossAndGradient(json: json, for: model, source: source), try LossAndGradient.increments(json: json, for: model, source: source))
    }
}
