import ArgumentParser
import BioRNN
import Foundation

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time one workload: median wall time over repetitions after a warm-up, and GFLOP/s on a stated FLOP count.",
        discussion: """
            bptt and eprop: one training step (forward, gradient, Adam update) on B trials (--trials) of T steps (--steps). lyapunov: the first k \
            exponents over T steps, QR every step (k defaults to N). floss and floss-local: one full or local \
            gradient-flossing step over a T-step window (k defaults to 1). dgemm: one N×N×N matrix product, the BLAS peak for scale. forward: the forward pass \
            alone, a floor under bptt and eprop. qr: one re-orthonormalisation (CholeskyQR2) of an N×k block \
            and jacobian: one product J·Q on an N×k block of tangent vectors (k defaults to N), T of each together \
            a floor under lyapunov. The problem (N units, \
            g = 1.5, tanh, α = 0.1, I = 4, O = 2, Gaussian data, seed 1) and the FLOP counts are documented in \
            Benchmark.swift; --save DIR writes model.json, batch.json, start.json (x0, Q0) and reference.json (BioRNN's \
            BPTT and e-prop gradients, the k exponents over T steps from x0, Q0, and the full and local flossing loss, \
            exponents and gradients of a T-step window from x0, Q0) for other implementations. \
            BioRNN computes on OPENBLAS_NUM_THREADS threads (default: the cores; reported as "threads"), with \
            OpenBLAS itself single-threaded except in dgemm.
            """
    )
    @Option(help: "bptt, eprop, lyapunov, floss, floss-local, dgemm, forward, qr or jacobian.") var what: String
    @Option(parsing: .unconditional, help: "Number of units N (required).") var units: Whole?
    @Option(parsing: .unconditional, help: "Time steps T.") var steps: Whole = 100
    @Option(parsing: .unconditional, help: "Trials per batch B.") var trials: Whole = 32
    @Option(parsing: .unconditional, help: "Number of exponents k (lyapunov, qr and jacobian: default N; floss: default 1).") var k: Whole?
    @Option(parsing: .unconditional, help: "Timed repetitions (the median is reported).") var repeats: Whole = 7
    @Option(parsing: .unconditional, help: "Untimed warm-up repetitions.") var warmup: Whole = 2
    @Option(help: "Write the problem (model.json, batch.json, start.json) into this folder.") var save: String?
    @Option(name: .customLong("n"), help: .hidden) var oldN: String?
    @Option(name: .customLong("t"), help: .hidden) var oldT: String?
    @Option(name: .customLong("b"), help: .hidden) var oldB: String?
    @Flag(help: "Print JSON on stdout.") var json = false

    func run() throws {
        try refuseRenamed(oldN, old: "n", new: "units")
        try refuseRenamed(oldT, old: "t", new: "steps")
        try refuseRenamed(oldB, old: "b", new: "trials")
        guard let workload = Benchmark.Workload(rawValue: what) else {
            throw InputError("what: " + unknownName(what, kind: "workload", known: Benchmark.Workload.allCases.map(\.rawValue)))
        }
        let (repeats, warmup) = (self.repeats.value, self.warmup.value)
        guard let n = units?.value else { throw InputError("units: missing: the number of units N (--units N)") }
        let (t, b) = (steps.value, trials.value)
        guard n >= 1 && n <= 8192 else { throw InputError("units: must lie in 1…8192, got \(n)") }
        guard t >= 1 && t <= 1_000_000 else { throw InputError("steps: must lie in 1…1000000, got \(t)") }
        guard b >= 1 && b <= 65536 else { throw InputError("trials: must lie in 1…65536, got \(b)") }
        try Trajectory.checkSize(steps: t, trials: b, units: n, field: .trials)
        guard repeats >= 1 && warmup >= 0 else { throw InputError("repeats: must be ≥ 1 (and warmup ≥ 0)") }
        let k = self.k?.value ?? ([.lyapunov, .qr, .jacobian].contains(workload) ? n : 1)
        try Lyapunov.checkExponentCount(k, units: n)
        if let save { try saveProblem(to: save, n: n, t: t, b: b, k: k) }
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

    func saveProblem(to dir: String, n: Int, t: Int, b: Int, k: Int) throws {
        try Directory.create(dir)
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
        // One flossing window from the same start (no transient), target 0, both gradients.
        let window = try FlossingWindow.record(RNNMap(model), k: k, transient: 0, window: t,
                                               initialConditionSeed: 1, orthonormalSeed: 1, start: start)
        func flossing(_ mode: FlossMode) -> JSONValue {
            let g = window.gradient(mode: mode, target: 0)
            return .object([("w_rec", JSONValue(g.wRec)), ("b_rec", JSONValue(g.bRec))])
        }
        try AtomicFile.write(JSONValue.object([
            ("loss", .number(bptt.loss)), ("bptt", tensors(bptt.gradients)), ("eprop", tensors(eprop.gradients)),
            ("spectrum_steps", .number(Double(t))), ("exponents", JSONValue(spectrum.exponents)),
            ("flossing", .object([("loss", .number(window.loss(target: 0))), ("exponents", JSONValue(window.exponents)),
                                  ("full", flossing(.full)), ("local", flossing(.local))])),
        ]).serialized + "\n", to: "\(dir)/reference.json")
    }
}
