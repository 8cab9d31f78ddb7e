import ArgumentParser
import BioRNN
import Foundation

struct LyapunovCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lyapunov",
        abstract: "Lyapunov exponents of a model's dynamics (QR method, single tangent vector, or twin trajectory).",
        discussion: """
            Prints {"exponents": [λ1 ≥ λ2 ≥ …], "stderr": [...], "units": "per-step", "kaplan_yorke_dimension": D, \
            "entropy_rate": h} with --json (natural log per time step; with --dt-ms also "exponents_per_second"). The \
            Kaplan–Yorke dimension and the Kolmogorov–Sinai entropy rate (the sum of the positive exponents) are null, \
            with a "note" saying why, when the k exponents do not determine them. Standard errors come from the spread over 10 blocks of \
            the trajectory. Without --batch the input is zero; with it, the network is driven by the inputs of the \
            batch's first trial, repeated. Non-finite exponents (a rank-deficient Jacobian) are written as null.
            """
    )

    @Option(help: "Model file (JSON; see “File Formats” in the documentation).") var model: String
    @Option(help: "Batch file whose first trial drives the network (default: zero input).") var batch: String?
    @Option(parsing: .unconditional, help: "Number of exponents k (1…N). Ignored by the tangent and twin methods (k = 1).") var k: Whole = 1
    @Option(parsing: .unconditional, help: "Measured steps (at most 10⁸).") var steps = Whole(LyapunovOptions.command.steps)
    @Option(parsing: .unconditional, help: "Transient steps before measuring (at most 10⁸).") var transient = Whole(LyapunovOptions.command.transient)
    @Option(parsing: .unconditional, help: "Re-orthonormalise (renormalise) every q steps.") var qrEvery: Whole = 1
    @Option(parsing: .unconditional, help: "Seed of the initial condition and of the orthonormal system.") var seed: Whole = 1
    @Option(help: "Method: qr (first k exponents), tangent (λ_max, one vector), twin (λ_max, perturbed twin trajectory).") var method = "qr"
    @Option(parsing: .unconditional, help: "Time step in ms, to report exponents per second as well.") var dtMs: Double?
    @Flag(help: "Print JSON on stdout.") var json = false

    static let methods = ["qr", "tangent", "twin"]

    func run() throws {
        guard Self.methods.contains(method) else { throw InputError("method: " + unknownName(method, kind: "method", known: Self.methods)) }
        let (k, steps, transient, qrEvery, seed) = (self.k.value, self.steps.value, self.transient.value, self.qrEvery.value, self.seed.value)
        let net = try RNN.read(path: model)
        var map = RNNMap(net)
        if let batch {
            let data = try Batch.read(path: batch)
            guard data.inputSize == net.inputs else { throw InputError("\(batch): inputs: the model has \(net.inputs) inputs, the batch \(data.inputSize)") }
            map = RNNMap(net, drivenBy: data)
        }
        let options = LyapunovOptions(transient: transient, steps: steps, qrEvery: qrEvery).seeded(try validatedSeed(seed))
        if let dtMs { guard dtMs.isFinite && dtMs > 0 else { throw InputError("dt-ms: must be > 0, got \(dtMs)") } }
        let exponents = method == "qr" ? k : 1
        try options.validate(dimension: net.units, k: exponents)
        let total = transient + steps, n = Double(net.units)
        Output.announce("lyapunov", multiplyAdds: Double(total) * (n * n * Double(exponents) + (method == "qr" ? 2 * n * Double(exponents * exponents) : 0)),
                        what: "\(total) steps of \(exponents) tangent vector\(exponents == 1 ? "" : "s") in N = \(net.units)")
        let line = ProgressLine(name: "lyapunov", unit: "steps")
        let progress = StepProgress(total: total) { line.update($0, of: $1) }
        let result: LyapunovResult
        switch method {
        case "qr": result = try Lyapunov.spectrum(of: map, k: k, options: options, progress: progress)
        case "tangent": result = try Lyapunov.maximalExponent(of: map, options: options, progress: progress)
        case "twin": result = try Lyapunov.twinExponent(of: map, options: options, progress: progress)
        default: fatalError("checked above")
        }
        Output.endProgress()
        if json {
            var pairs: [(String, JSONValue)] = [("exponents", JSONValue(result.exponents)), ("stderr", JSONValue(result.standardErrors)),
                                                ("units", .string("per-step"))]
            if let dtMs { pairs.append(("exponents_per_second", JSONValue(result.exponents.map { $0 / (dtMs / 1000) }))) }
            if method == "qr" {
                let summary = SpectrumSummary(exponents: result.exponents, dimension: net.units)
                pairs.append(("kaplan_yorke_dimension", summary.kaplanYorkeDimension.map { .number($0) } ?? .null))
                pairs.append(("entropy_rate", summary.entropyRate.map { .number($0) } ?? .null))
                if let note = summary.note { pairs.append(("note", .string(note))) }
            }
            Output.printJSON(.object(pairs))
        } else {
            for (i, (l, e)) in zip(result.exponents, result.standardErrors).enumerated() {
                print("λ\(i + 1) = \(String(format: "%+.5f", l)) ± \(String(format: "%.5f", e)) per step" + (dtMs.map { String(format: "   (%+.3f /s)", l / ($0 / 1000)) } ?? ""))
            }
            if method == "qr" {
                let summary = SpectrumSummary(exponents: result.exponents, dimension: net.units)
                if let d = summary.kaplanYorkeDimension { print(String(format: "Kaplan–Yorke dimension %.4f", d)) }
                if let h = summary.entropyRate { print(String(format: "entropy rate (sum of positive exponents) %.5f per step", h)) }
                if let note = summary.note { print(note) }
            }
        }
    }
}
