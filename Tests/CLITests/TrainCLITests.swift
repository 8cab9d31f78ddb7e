import BioRNN
import BioRNNTesting
import Foundation
import Testing

@Suite("biornn train (end to end)")
struct TrainCLITests {
    @Test("train writes the five files of a run directory; summary and model agree with the library")
    func writesRunDirectory() throws {
        let dir = try CLI.temporaryDirectory() + "/run"
        let r = try CLI.run(["train", "--task", "pattern-generation", "--rule", "bptt", "--gain", "1.0", "--seed", "5",
                             "--iterations", "20", "--log-every", "5", "--units", "16", "--out", dir, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        for name in ["config.json", "metrics.csv", "model-init.json", "model.json", "summary.json"] {
            #expect(FileManager.default.fileExists(atPath: "\(dir)/\(name)"), "\(name)")
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")
        var config = TrainingConfig(task: "pattern-generation", rule: "bptt", gain: 1.0, seed: 5, iterations: 20)
        config.logEvery = 5
        config.units = 16
        let library = try train(config)
        #expect(try RNN.read(path: "\(dir)/model.json") == library.model)
        #expect(try RNN.read(path: "\(dir)/model-init.json") == library.initialModel)
        let csv = try String(contentsOfFile: "\(dir)/metrics.csv", encoding: .utf8)
        #expect(csv == RunDirectory.metricsCSV(library.metrics))
        #expect(csv.hasPrefix("iteration,loss,train_loss,accuracy,lambda_max\n0,"))
        #expect(!csv.hasSuffix(",\n"))   // λ_max is measured on every logged row
        let summary = try JSONValue.read(path: "\(dir)/summary.json")
        #expect(summary["status"] == .string("completed"))
        #expect(summary["lambda_max_before"]?["driven"] == .number(library.lambdaBefore.driven))
        #expect(summary["lambda_max_after"]?["autonomous"] == .number(library.lambdaAfter.autonomous))
        #expect(try JSONValue.parse(Data(r.stdout.utf8), source: "stdout") == summary)
        let resolved = try JSONValue.read(path: "\(dir)/config.json")
        #expect(resolved["alpha"] == .number(0.1) && resolved["dt_ms"] == .number(10) && resolved["loss"] == .string("mse"))
    }
}
