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

    @Option(help: "Model file (JSON, design §6).") var model: String
    @Option(help: "full, local or local-explicit.") var mode: String
    @Option(help: "Number of exponents k.") var k: Int = 1
    @Option(help: "Window T_f (steps over which the exponents are measured).") var window: Int = 200
    @Option(help: "Transient steps before each window.") var transient: Int = 300
    @Option(help: "Flossing steps.") var iterations: Int
    @Option(help: "Adam learning rate.") var lr: Double = 0.002
    @Option(help: "Target exponent λ_target.") var target: Double = 0
    @Option(help: "Seed of the flossing trajectories and of the evaluation.") var seed: Int = 1
    @Option(help: "Batch file whose trials drive the network (default: zero input).") var batch: String?
    @Flag(help: "Floss W_in too.") var wIn = false
    @Option(help: "Where to write the flossed model.") var out: String
    @Flag(help: "Print JSON on stdout.") var json = false

    func run() throws {
        var net = try RNN.read(path: model)
        guard let m = FlossMode(rawValue: mode) else { throw InputError("mode: must be full, local or local-explicit, got '\(mode)'") }
        var config = FlossingConfig(mode: m)
        config.k = k
        config.window = window
        config.transient = transient
        config.learningRate = lr
        config.target = target
        if wIn { config.trainable.insert(.wIn) }
        guard iterations >= 0 else { throw InputError("iterations: must be ≥ 0, got \(iterations)") }
        guard target.isFinite else { throw InputError("target: must be finite") }
        try config.validate()
        guard k <= net.units else { throw InputError("k: must lie in 1…\(net.units) (the number of units), got \(k)") }
        guard transient >= 0 else { throw InputError("transient: must be ≥ 0, got \(transient)") }
        let s = try validatedSeed(seed)
        var trials: [Matrix] = []
        if let batch {
            let data = try Batch.read(path: batch)
            guard data.inputSize == net.inputs else { throw InputError("\(batch): inputs: the model has \(net.inputs) inputs, the batch \(data.inputSize)") }
            trials = (0..<data.trials).map { b in let t = data.trial(b); return Matrix(rows: t.steps, cols: t.inputSize, storage: t.inputs) }
        }
        let drive: ((Int) -> Matrix?)? = trials.isEmpty ? nil : { trials[$0 % trials.count] }
        let before = try freshExponents(net, k: k, inputs: trials.first, seed: s)
        var flosser = Flosser(config, seed: s)
        do {
            try flosser.floss(&net, steps: iterations, inputs: drive)
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
