import BioRNN
import BioRNNConformance
import BioRNNTesting
import Foundation
import Testing

@Suite("biornn gradient, task and error contract (end to end)")
struct GradientCLITests {
    func write(_ text: String, _ dir: String, _ name: String) throws -> String {
        let path = (dir as NSString).appendingPathComponent(name)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("gradient --rule bptt --json prints the documented JSON, equal to the library's BPTT to the last digit", arguments: LossKind.allCases)
    func gradientMatchesLibrary(loss: LossKind) throws {
        let dir = try CLI.temporaryDirectory()
        let c = RandomNetworkCase(seed: 77, units: 7, inputs: 3, outputs: 2, steps: 9, trials: 4, alpha: 0.3, activation: .tanh, loss: loss)
        let modelPath = try write(c.model.json.serialized, dir, "model.json")
        let batchPath = try write(c.batch.json.serialized, dir, "batch.json")
        let result = try CLI.run(["gradient", "--model", modelPath, "--batch", batchPath, "--rule", "bptt", "--loss", loss.rawValue, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty)
        let json = try JSONValue.parse(Data(result.stdout.utf8), source: "stdout")
        let expected = BPTT().gradient(of: c.model, on: c.batch)
        #expect(json["loss"] == .number(expected.loss))
        let g = expected.gradients
        #expect(json["grads"] == .object([("w_in", JSONValue(g.wIn)), ("w_rec", JSONValue(g.wRec)), ("w_out", JSONValue(g.wOut)),
                                          ("b_rec", JSONValue(g.bRec)), ("b_out", JSONValue(g.bOut)), ("h0", JSONValue(g.h0))]))
    }

    @Test("bad input: exit 2 and exactly one line naming the file or field")
    func errors() throws {
        let dir = try CLI.temporaryDirectory()
        let c = RandomNetworkCase(seed: 1, units: 3, inputs: 2, outputs: 2, steps: 4, trials: 2, alpha: 0.5, activation: .tanh, loss: .xent)
        let model = try write(c.model.json.serialized, dir, "model.json")
        let batch = try write(c.batch.json.serialized, dir, "batch.json")
        let ragged = try write(#"{"alpha": 0.5, "activation": "tanh", "w_in": [[1],[1]], "w_rec": [[1,0],[0]], "w_out": [[1,1]]}"#, dir, "ragged.json")
        let cases: [([String], String)] = [
            (["gradient", "--model", "\(dir)/missing.json", "--batch", batch, "--rule", "bptt"], "biornn: error: \(dir)/missing.json: no such file\n"),
            (["gradient", "--model", ragged, "--batch", batch, "--rule", "bptt"], "biornn: error: \(ragged): w_rec: ragged rows: row 0 has 2 entries, row 1 has 1\n"),
            (["gradient", "--model", model, "--batch", batch, "--rule", "nope"], "biornn: error: rule: unknown rule 'nope' (known: bptt, rtrl, tbptt:K, eprop, eprop-random, rflo, modprop, modprop:μ)\n"),
            (["gradient", "--model", model, "--batch", batch, "--rule", "tbptt:0"], "biornn: error: rule: 'tbptt:0': the truncation K of tbptt:K must be an integer ≥ 1\n"),
            (["gradient", "--model", model, "--batch", batch, "--rule", "bptt", "--loss", "mse"], "biornn: error: loss: --loss mse but \(batch) has labels (xent)\n"),
            (["gradient", "--model", model, "--rule", "bptt"], "biornn: error: Missing expected argument '--batch <batch>'\n"),
            (["train", "--task", "nope", "--rule", "bptt", "--gain", "1", "--seed", "1", "--iterations", "1", "--out", "\(dir)/never"], "biornn: error: task: unknown task 'nope' (known: perceptual-decision, delay-match-sample, context-decision, delayed-xor, pattern-generation)\n"),
            (["train", "--task", "delayed-xor", "--rule", "bptt", "--gain", "1", "--seed=-3", "--iterations", "1", "--out", "\(dir)/never"], "biornn: error: seed: must lie in 0…9007199254740992, got -3\n"),
            (["train", "--task", "delayed-xor", "--rule", "bptt", "--gain", "nan", "--seed", "1", "--iterations", "1", "--out", "\(dir)/never"], "biornn: error: gain: must be a finite number ≥ 0, got nan\n"),
            (["task", "sample", "--task", "delayed-xor", "--trials", "0", "--seed", "1"], "biornn: error: trials: must lie in 1…100000, got 0\n"),
            (["frobnicate"], "biornn: error: Unexpected argument 'frobnicate'\n"),
        ]
        for (args, message) in cases {
            let r = try CLI.run(args)
            #expect(r.status == 2, "\(args)")
            #expect(r.stderr == message, "\(args)")
            #expect(r.stdout.isEmpty, "\(args)")
        }
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/never"))
    }

    @Test("--help exits 0 and explains every option of the command")
    func help() throws {
        let r = try CLI.run(["gradient", "--help"])
        #expect(r.status == 0)
        for option in ["--model", "--batch", "--rule", "--loss", "--seed", "--json"] { #expect(r.stdout.contains(option), "\(option)") }
        let top = try CLI.run(["--help"])
        #expect(top.status == 0 && top.stdout.contains("train") && top.stdout.contains("gradient"))
    }

    @Test("task sample prints a batch file that reads back as the library's batch for that seed")
    func taskSample() throws {
        let r = try CLI.run(["task", "sample", "--task", "delayed-xor", "--trials", "3", "--seed", "12"])
        #expect(r.status == 0)
        var rng = RandomStream(seed: 12, purpose: .data)
        let expected = DelayedXOR().sample(trials: 3, using: &rng)
        #expect(try Batch(json: JSONValue.parse(Data(r.stdout.utf8), source: "stdout"), source: "stdout") == expected)
    }
}

@Suite("biornn gradient with every rule, and biornn align (end to end)")
struct RuleCLITests {
    @Test("gradient --rule R --json equals the library's rule R to the last digit", arguments: ["bptt", "rtrl", "tbptt:3", "eprop", "eprop-random", "rflo", "modprop"])
    func everyRule(rule: String) throws {
        let dir = try CLI.temporaryDirectory()
        let c = RandomNetworkCase(seed: 31, units: 6, inputs: 2, outputs: 2, steps: 8, trials: 3, alpha: 0.25, activation: .relu, loss: .xent)
        var model = c.model
        if rule == "modprop" {   // ModProp needs a Dale network with relu
            var rng = RandomStream(seed: 2, purpose: .network)
            (model.parameters.wRec, model.daleSigns) = Connectivity.dale(gain: 1.1).recurrentWeights(units: 6, using: &rng)
        }
        try model.json.serialized.write(toFile: "\(dir)/m.json", atomically: true, encoding: .utf8)
        try c.batch.json.serialized.write(toFile: "\(dir)/b.json", atomically: true, encoding: .utf8)
        let r = try CLI.run(["gradient", "--model", "\(dir)/m.json", "--batch", "\(dir)/b.json", "--rule", rule, "--seed", "9", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let expected = try RuleRegistry.rule(named: rule, model: model, seed: 9).gradient(of: model, on: c.batch)
        let json = try JSONValue.parse(Data(r.stdout.utf8), source: "stdout")
        #expect(json["loss"] == .number(expected.loss))
        #expect(json["grads"]?["w_rec"] == JSONValue(expected.gradients.wRec))
        #expect(json["grads"]?["h0"] == JSONValue(expected.gradients.h0))
    }

    @Test("modprop on a network without Dale signs exits 2 naming the requirement")
    func modPropNeedsDale() throws {
        let dir = try CLI.temporaryDirectory()
        let c = RandomNetworkCase(seed: 1, units: 4, inputs: 1, outputs: 2, steps: 3, trials: 1, alpha: 0.5, activation: .relu, loss: .xent)
        try c.model.json.serialized.write(toFile: "\(dir)/m.json", atomically: true, encoding: .utf8)
        try c.batch.json.serialized.write(toFile: "\(dir)/b.json", atomically: true, encoding: .utf8)
        let r = try CLI.run(["gradient", "--model", "\(dir)/m.json", "--batch", "\(dir)/b.json", "--rule", "modprop"])
        #expect(r.status == 2)
        #expect(r.stderr == "biornn: error: rule: modprop requires a Dale network (dale_signs, e.g. --init dale) with relu activation\n")
    }

    @Test("align --json reports per rule the W_rec and W_in cosines over seeds, equal to the library's")
    func align() throws {
        let r = try CLI.run(["align", "--task", "delayed-xor", "--gain", "1.2", "--seeds", "3", "--units", "12", "--rules", "eprop,modprop", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try JSONValue.parse(Data(r.stdout.utf8), source: "stdout")
        let rows = try GradientAlignment.measure(task: "delayed-xor", gain: 1.2, seeds: 3, units: 12, rules: ["eprop", "modprop"])
        guard case let .array(items)? = json["rules"] else { Issue.record("no rules array"); return }
        #expect(items.count == 2)
        for (item, row) in zip(items, rows) {
            #expect(item["rule"] == .string(row.rule))
            #expect(item["w_rec"]?["values"] == JSONValue(row.wRec))
            #expect(item["w_in"]?["mean"] == .number(meanAndSD(row.wIn).mean))
        }
        let table = try CLI.run(["align", "--task", "delayed-xor", "--gain", "1.2", "--seeds", "2", "--units", "8", "--rules", "eprop"])
        #expect(table.status == 0 && table.stdout.contains("eprop") && table.stdout.contains("±"))
    }
}

/// BioRNN splits work between `OPENBLAS_NUM_THREADS` threads (`BLAS.threadCount`): the trials of
/// a recurrence, the tangent vectors of a Lyapunov step, the rows or columns of a large product.
/// The numbers must not depend on that count, and here they do not at all: the recurrent kernel's
/// sums run in one order whatever rows a thread gets (NumericsTests checks that bit for bit), and
/// each block of a split product is an OpenBLAS call whose entries sum in the same order as in
/// one call. Sizes are chosen so that every split happens (the thresholds are 2²⁰ ≈ 1.0·10⁶
/// multiply-adds for `ThreadSplit` and 2²² ≈ 4.2·10⁶ for a split OpenBLAS product: N = 64,
/// T = 100, B = 32: 1.3·10⁷ per pass and per weight-gradient product; k = N = 256: 1.7·10⁷ per J·Q,
/// 8.4·10⁶ per Gram matrix and per triangular solve of CholeskyQR2; k = 32, N = 256: 2.1·10⁶ per
/// J·Q, the factorisation on one thread and the state's step beside it; flossing at N = 256, k = 64:
/// 4.2·10⁶ per J·Q, 3.4·10⁷ per stacked W̄_rec product).
@Suite("results do not depend on the number of threads (end to end)")
struct ThreadCountTests {
    @Test("gradient --rule bptt|eprop, lyapunov and floss print the same bytes on 1, 2 and 3 threads")
    func sameBytes() throws {
        let dir = try CLI.temporaryDirectory()
        try Benchmark.model(units: 64).json.serialized.write(toFile: "\(dir)/m64.json", atomically: true, encoding: .utf8)
        try Benchmark.batch(steps: 100, trials: 32).json.serialized.write(toFile: "\(dir)/b.json", atomically: true, encoding: .utf8)
        try Benchmark.model(units: 256).json.serialized.write(toFile: "\(dir)/m256.json", atomically: true, encoding: .utf8)
        let commands = [
            ["gradient", "--model", "\(dir)/m64.json", "--batch", "\(dir)/b.json", "--rule", "bptt", "--loss", "mse", "--json"],
            ["gradient", "--model", "\(dir)/m64.json", "--batch", "\(dir)/b.json", "--rule", "eprop", "--loss", "mse", "--json"],
            ["lyapunov", "--model", "\(dir)/m256.json", "--k", "256", "--steps", "100", "--transient", "20", "--seed", "3", "--json"],
            ["lyapunov", "--model", "\(dir)/m256.json", "--k", "32", "--steps", "100", "--transient", "20", "--seed", "3", "--json"],
            ["floss", "--model", "\(dir)/m256.json", "--mode", "full", "--k", "64", "--window", "20", "--transient", "10",
             "--iterations", "1", "--out", "\(dir)/flossed.json", "--json"],
        ]
        for command in commands {
            let outputs = try [1, 2, 3].map { threads in
                let r = try CLI.run(command, environment: ["OPENBLAS_NUM_THREADS": "\(threads)"])
                #expect(r.status == 0, "\(command[0]) on \(threads) threads: \(r.stderr)")
                let written = command[0] == "floss" ? (try? String(contentsOfFile: "\(dir)/flossed.json", encoding: .utf8)) ?? "" : ""
                return r.stdout + written
            }
            #expect(!outputs[0].isEmpty)
            #expect(outputs[1] == outputs[0], "\(command.prefix(6).joined(separator: " ")): 2 threads differ from 1")
            #expect(outputs[2] == outputs[0], "\(command.prefix(6).joined(separator: " ")): 3 threads differ from 1")
        }
    }
}
