import ArgumentParser
import BioRNN
import Foundation

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time one workload: median wall time over repetitions after a warm-up, and GFLOP/s on a stated FLOP count.",
        discussion: """
            bptt and eprop: one training step (forward, gradient, Adam update) on B trials of T steps. lyapunov: the first k \
            exponents over T steps, QR every step (k defaults to N). floss: one full gradient-flossing step over a T-step \
            window (k defaults to 1). dgemm: one N×N×N matrix product, the BLAS peak for scale. forward: the forward pass \
            alone, a floor under bptt and eprop. qr: one Householder QR of an N×k block (k defaults to N), T of which are \
            a floor under lyapunov. The problem (N units, \
            g = 1.5, tanh, α = 0.1, I = 4, O = 2, Gaussian data, seed 1) and the FLOP counts are documented in \
            Benchmark.swift; --save DIR writes model.json, batch.json, start.json (x0, Q0) and reference.json (BioRNN's \
            BPTT and e-prop gradients and the k exponents over T steps from x0, Q0) for other implementations. \
            BioRNN computes on OPENBLAS_NUM_THREADS threads (default: the cores; reported as "threads"), with \
            OpenBLAS itself single-threaded except in dgemm.
            """
    )
    @Option(help: "bptt, eprop, lyapunov, floss, dgemm, forward or qr.") var what: String
    @Option(help: "Number of units N.") var n: Int
    @Option(help: "Time steps T.") var t: Int = 100
    @Option(help: "Trials per batch B.") var b: Int = 32
    @Option(help: "Number of exponents k (lyapunov and qr: default N; floss: default 1).") var k: Int?
    @Option(help: "Timed repetitions (the median is reported).") var repeats: Int = 7
    @Option(help: "Untimed warm-up repetitions.") var warmup: Int = 2
    @Option(help: "Write the problem (model.json, batch.json, start.json) into this folder.") var save: String?
    @Flag(help: "Print JSON on stdout.") var json = false

    func run() throws {
        guard let workload = Benchmark.Workload(rawValue: what) else {
            throw InputError("what: unknown workload '\(what)' (known: \(Benchmark.Workload.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard n >= 1 && n <= 8192 else { throw InputError("n: must lie in 1…8192, got \(n)") }
        guard t >= 1 && t <= 1_000_000 else { throw InputError("t: must lie in 1…1000000, got \(t)") }
        guard b >= 1 && b <= 65536 else { throw InputError("b: must lie in 1…65536, got \(b)") }
        try Trajectory.checkSize(steps: t, trials: b, units: n, field: "b")
        guard repeats >= 1 && warmup >= 0 else { throw InputError("repeats: must be ≥ 1 (and warmup ≥ 0)") }
        let k = self.k ?? (workload == .lyapunov || workload == .qr ? n : 1)
        guard k >= 1 && k <= n else { throw InputError("k: must lie in 1…\(n) (the number of units), got \(k)") }
        if let save { try saveProblem(to: save, k: k) }
        let body = try Benchmark.work(workload, n: n, t: t, b: b, k: k)
        let timing = try Benchmark.medianSeconds(warmup: warmup, repeats: repeats, body)
        let flops = Benchmark.flops(workload, n: n, t: t, b: b, k: k)
        let result: JSONValue = .object([
            ("what", .string(what)), ("n", .number(Double(n))), ("t", .number(Double(t))), ("b", .number(Double(b))),
            ("k", .number(Double(k))), ("ms_median", .number(timing.median * 1000)), ("gflops", .number(flops / timing.median / 1e9)),
            ("flops", .number(flops)), ("repeats", .number(Double(repeats))), ("ms_all", JSONValue(timing.all.map { $0 * 1000 })),
            ("threads", .number(Double(BLAS.threadCount))),
        ])
        if json { Output.printJSON(result) } else {
            print("\(what) N=\(n) T=\(t) B=\(b) k=\(k): median \(String(format: "%.3f", timing.median * 1000)) ms over \(repeats), "
                  + "\(String(format: "%.2f", flops / timing.median / 1e9)) GFLOP/s on \(BLAS.threadCount) threads")
        }
    }

    func saveProblem(to dir: String, k: Int) throws {
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch { throw InputError("\(dir): cannot create directory") }
        let start = Benchmark.lyapunovStart(units: n, k: k)
        try AtomicFile.write(Benchmark.model(units: n).json.serialized + "\n", to: "\(dir)/model.json")
        try AtomicFile.write(Benchmark.batch(steps: t, trials: b).json.serialized + "\n", to: "\(dir)/batch.json")
        try AtomicFile.write(JSONValue.object([("x0", JSONValue(start.state)), ("q0", JSONValue(start.basis))]).serialized + "\n", to: "\(dir)/start.json")
        // BioRNN's numbers on this problem, for the other implementation to compare with.
        let model = Benchmark.model(units: n), batch = Benchmark.batch(steps: t, trials: b)
        func tensors(_ g: Parameters) -> JSONValue {
            .object([("w_in", JSONValue(g.wIn)), ("w_rec", JSONValue(g.wRec)), ("w_out", JSONValue(g.wOut)),
                     ("b_rec", JSONValue(g.bRec)), ("b_out", JSONValue(g.bOut)), ("h0", JSONValue(g.h0))])
        }
        let bptt = BPTT().gradient(of: model, on: batch), eprop = EProp().gradient(of: model, on: batch)
        let spectrum = try Lyapunov.spectrum(of: RNNMap(model), k: k, options: LyapunovOptions(transient: 0, steps: t, qrEvery: 1), start: start)
        try AtomicFile.write(JSONValue.object([
            ("loss", .number(bptt.loss)), ("bptt", tensors(bptt.gradients)), ("eprop", tensors(eprop.gradients)),
            ("spectrum_steps", .number(Double(t))), ("exponents", JSONValue(spectrum.exponents)),
        ]).serialized + "\n", to: "\(dir)/reference.json")
    }
}
