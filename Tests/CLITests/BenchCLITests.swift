import BioRNN
import Foundation
import Testing

@Suite("biornn bench (end to end)")
struct BenchCLITests {
    @Test("every workload prints the documented keys; flops is the stated count, gflops = flops / median, the median is the median of ms_all",
          arguments: Benchmark.Workload.allCases)
    func keys(workload: Benchmark.Workload) throws {
        let r = try CLI.run(["bench", "--what", workload.rawValue, "--units", "8", "--steps", "5", "--trials", "2", "--k", "2",
                             "--repeats", "3", "--warmup", "0", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try JSONValue.parse(Data(r.stdout.utf8), source: "stdout")
        guard case let .object(fields) = json else { Issue.record("not an object: \(r.stdout)"); return }
        #expect(fields.map(\.0) == ["what", "n", "t", "b", "k", "ms_median", "gflops", "flops", "repeats", "ms_all", "threads"])
        #expect(json["what"] == .string(workload.rawValue))
        let flops = Benchmark.flops(workload, n: 8, t: 5, b: 2, k: 2)
        #expect(json["flops"] == .number(flops))
        guard case let .number(median) = json["ms_median"], case let .number(gflops) = json["gflops"],
              case let .array(all) = json["ms_all"] else { Issue.record("missing numbers: \(r.stdout)"); return }
        let times = all.compactMap { if case let .number(x) = $0 { x } else { nil } }
        #expect(times.count == 3 && times.sorted()[1] == median)
        // gflops is computed from seconds, the printed median in ms: one rounding each way.
        #expect(abs(gflops - flops / median / 1e6) <= 1e-12 * gflops)
    }

    @Test("the FLOP counts of Benchmark.swift, by hand for small sizes")
    func flopCounts() {
        // N = 2, T = 3, B = 1, I = 4, O = 2 (the benchmark's I and O): TBN² = 12, TBNI = 24, TBNO = 12.
        #expect(Benchmark.flops(.bptt, n: 2, t: 3, b: 1, k: 1) == 240)      // 6·12 + 4·24 + 6·12
        #expect(Benchmark.flops(.eprop, n: 2, t: 3, b: 1, k: 1) == 216)     // 4·12 + 4·24 + 6·12
        #expect(Benchmark.flops(.forward, n: 2, t: 3, b: 1, k: 1) == 96)    // 2·12 + 2·24 + 2·12
        #expect(Benchmark.flops(.dgemm, n: 3, t: 1, b: 1, k: 1) == 54)      // 2·27
        // N = 6, k = 3: CholeskyQR2, two rounds of the Gram matrix and the solve (Nk² = 54 each)
        // and the Cholesky factorisation (k³/3 = 9): 234; J·Q 2N²k = 216 per step.
        #expect(Benchmark.flops(.qr, n: 6, t: 1, b: 1, k: 3) == 234)
        #expect(Benchmark.flops(.jacobian, n: 6, t: 1, b: 1, k: 3) == 216)
        #expect(Benchmark.flops(.lyapunov, n: 6, t: 10, b: 1, k: 3) == 4500)
        #expect(Benchmark.flops(.floss, n: 6, t: 10, b: 1, k: 3) == 9000)
        #expect(Benchmark.flops(.flossLocal, n: 6, t: 10, b: 1, k: 3) == 9000)
    }

    @Test("--save writes the shared problem, and reference.json holds the library's numbers on it")
    func save() throws {
        let dir = try CLI.temporaryDirectory()
        let r = try CLI.run(["bench", "--what", "forward", "--units", "6", "--steps", "4", "--trials", "2", "--k", "3",
                             "--repeats", "1", "--warmup", "0", "--save", "\(dir)/p"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: "\(dir)/p")) == ["model.json", "batch.json", "start.json", "reference.json"])
        let reference = try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: "\(dir)/p/reference.json")), source: "reference.json")
        let bptt = BPTT().gradient(of: Benchmark.model(units: 6), on: Benchmark.batch(steps: 4, trials: 2))
        #expect(reference["loss"] == .number(bptt.loss))
        #expect(reference["bptt"]?["w_rec"] == JSONValue(bptt.gradients.wRec))
        // The flossing window: T = 4 steps from the saved start, k = 3, no transient, target 0.
        let window = try FlossingWindow.record(RNNMap(Benchmark.model(units: 6)), k: 3, transient: 0, window: 4, initialConditionSeed: 1,
                                               orthonormalSeed: 1, start: Benchmark.lyapunovStart(units: 6, k: 3))
        #expect(reference["flossing"]?["loss"] == .number(window.loss(target: 0)))
        for mode in [FlossMode.full, .local] {
            #expect(reference["flossing"]?[mode.rawValue]?["w_rec"] == JSONValue(window.gradient(mode: mode, target: 0).wRec))
        }
    }

    @Test("bad options exit 2 with one line naming the field")
    func errors() throws {
        for (args, message) in [
            (["--what", "nope", "--units", "3"], "what: unknown workload 'nope' (known: bptt, eprop, lyapunov, floss, floss-local, dgemm, forward, qr, jacobian)"),
            (["--what", "qr", "--units", "4", "--k", "5"], "k: must lie in 1…4 (the number of units), got 5"),
            (["--what", "bptt", "--units", "0"], "units: must lie in 1…8192, got 0"),
            (["--what", "bptt"], "units: missing: the number of units N (--units N)"),
            (["--what", "eprop", "--units", "4", "--steps", "0"], "steps: must lie in 1…1000000, got 0"),
        ] {
            let r = try CLI.run(["bench"] + args)
            #expect(r.status == 2 && r.stderr == "biornn: error: \(message)\n", "\(args): \(r.stderr)")
            #expect(r.stdout.isEmpty)
        }
    }
}
