import ArgumentParser
import BioRNN
import Foundation

struct FlossCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "floss",
        abstract: "Gradient flossing: push a model's first k Lyapunov exponents toward a target (default 0).",
        discussion: """
            Flosses W_rec and b_rec (and W_in with --w-in) with Adam on L = (1/k)·Σ_i (λ_i − target)², λ_i measured \
            by the QR method over a window after a transient, each step on a fresh trajectory (new initial condition \
            and orthonormal system; with --batch, driven by that batch's trials in turn, otherwise autonomous). \
            Modes: full (exact gradient through the window and every QR step), local (e-prop-style, explicit and \
            state terms), local-explicit (explicit term only). Writes the flossed model to --out and prints \
            {"lambda_before": [...], "lambda_after": [...]} with --json, measured on fresh trajectories (500 + 3000 steps).
            """
    )

    @Option(help: "Model file (JSON; see “File Formats” in the documentation).") var model: String
    @Option(help: "full, local or local-explicit.") var mode: String
    @Option(parsing: .unconditional, help: "Number of exponents k.") var k: Whole = 1
    @Option(parsing: .unconditional, help: "Window T_f (steps over which the exponents are measured; at most 10⁶).") var window: Whole = 200
    @Option(parsing: .unconditional, help: "Transient steps before each window (at most 10⁶).") var transient: Whole = 300
    @Option(parsing: .unconditional, help: "Flossing steps (at most 10⁶).") var iterations: Whole
    @Option(parsing: .unconditional, help: "Adam learning rate.") var lr: Double = 0.002
    @Option(parsing: .unconditional, help: "Target exponent λ_target.") var target: Double = 0
    @Option(parsing: .unconditional, help: "Seed of the flossing trajectories and of the evaluation.") var seed: Whole = 1
    @Option(help: "Batch file whose trials drive the network (default: zero input).") var batch: String?
    @Flag(help: "Floss W_in too.") var wIn = false
    @Option(help: "Where to write the flossed model.") var out: String
    @Flag(help: "Print JSON on stdout.") var json = false

    /// The most flossing steps, window or transient steps one call may ask for.
    static let maxSteps = 1_000_000

    func run() throws {
        let (k, window, transient, iterations, seed) = (self.k.value, self.window.value, self.transient.value, self.iterations.value, self.seed.value)
        var net = try RNN.read(path: model)
        guard let m = FlossMode(rawValue: mode) else {
            throw InputError("mode: " + unknownName(mode, kind: "mode", known: FlossMode.allCases.map(\.rawValue)))
        }
        var config = FlossingConfig(mode: m)
        config.k = k
        config.window = window
        config.transient = transient
        config.learningRate = lr
        config.target = target
        if wIn { config.trainable.insert(.wIn) }
        guard iterations >= 0 && iterations <= Self.maxSteps else { throw InputError("iterations: must lie in 0…\(Self.maxSteps), got \(iterations)") }
        guard window >= 1 && window <= Self.maxSteps else { throw InputError("window: must lie in 1…\(Self.maxSteps), got \(window)") }
        guard transient >= 0 && transient <= Self.maxSteps else { throw InputError("transient: must lie in 0…\(Self.maxSteps), got \(transient)") }
        guard lr.isFinite && lr > 0 else { throw InputError("lr: must be > 0, got \(lr)") }
        guard target.isFinite else { throw InputError("target: must be finite") }
        try Lyapunov.checkExponentCount(k, units: net.units)
        try config.validate()
        let s = try validatedSeed(seed)
        var trials: [Matrix] = []
        if let batch {
            let data = try Batch.read(path: batch)
            guard data.inputSize == net.inputs else { throw InputError("\(batch): inputs: the model has \(net.inputs) inputs, the batch \(data.inputSize)") }
            trials = (0..<data.trials).map { b in let t = data.trial(b); return Matrix(rows: t.steps, cols: t.inputSize, storage: t.inputs) }
        }
        let drive: ((Int) -> Matrix?)? = trials.isEmpty ? nil : { trials[$0 % trials.count] }
        let before = try freshExponents(net, k: k, inputs: trials.first, seed: s)
        let n = Double(net.units)
        Output.announce("floss", multiplyAdds: Double(iterations) * Double(window + transient) * n * n * Double(k) * (m == .full ? 3 : 2),
                        what: "\(iterations) flossing steps over \(window + transient) steps of N = \(net.units), k = \(k)")
        var flosser = Flosser(config, seed: s)
        let progress = ProgressLine(name: "floss", unit: "steps")
        do {
            for step in 0..<iterations {
                try flosser.floss(&net, steps: 1, inputs: drive)
                progress.update(step + 1, of: iterations, detail: flosser.history.last.map { "λ_1 ≈ \(String(format: "%+.4f", $0.exponents[0]))" } ?? "")
            }
        } catch let error as FlossingError {
            throw InputError(error.message)
        }
        Output.endProgress()
        let after = try freshExponents(net, k: k, inputs: trials.first, seed: s)
        try AtomicFile.write(net.json.serialized + "\n", to: out)
        if json {
            Output.printJSON(.object([("lambda_before", JSONValue(before.exponents)), ("lambda_after", JSONValue(after.exponents)),
                                      ("stderr_after", JSONValue(after.standardErrors)), ("units", .string("per-step"))]))
        } else {
            print("λ before: \(before.exponents.map { String(format: "%+.4f", $0) }.joined(separator: " "))")
            print("λ after:  \(after.exponents.map { String(format: "%+.4f", $0) }.joined(separator: " "))")
        }
    }
}
