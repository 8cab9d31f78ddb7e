import BioRNN
import Foundation

/// One check of the conformance kit and what it found.
public struct ConformanceCheck: Sendable, CustomStringConvertible {
    /// Every check the kit can run, by value; the raw value is the name the report prints.
    public enum Kind: String, Sendable, CaseIterable {
        case construction
        case shapesAndFiniteness = "shapes and finiteness"
        case determinism
        case permutationEquivariance = "permutation equivariance"
        case batchAdditivity = "batch additivity"
        case edgeCases = "edge cases"
        case equalsBPTT = "equals BPTT"
        case exactReadout = "exact readout"
        case equalsStopGradientBPTT = "equals stop-gradient BPTT"
        case equalsBPTTWithoutRecurrence = "equals BPTT when W_rec = 0"
        case learning = "loss decreases on 2AF"

        /// The check of a declared exact relation.
        public init(_ relation: ExactRelation) {
            switch relation {
            case .equalsBPTT: self = .equalsBPTT
            case .exactReadout: self = .exactReadout
            case .equalsStopGradientBPTT: self = .equalsStopGradientBPTT
            case .equalsBPTTWithoutRecurrence: self = .equalsBPTTWithoutRecurrence
            }
        }
    }

    public let kind: Kind
    public let passed: Bool
    public let detail: String
    public var name: String { kind.rawValue }
    public var description: String { "\(passed ? "pass" : "FAIL")  \(name): \(detail)" }
}

/// Everything the kit found about one rule: the checks, and the rule's alignment with BPTT
/// (cosine per tensor, mean over the random networks), which is reported, not judged.
public struct ConformanceReport: Sendable, CustomStringConvertible {
    public let rule: String
    public let checks: [ConformanceCheck]
    public let alignment: [(tensor: String, cosine: Double)]

    public var passed: Bool { checks.allSatisfy(\.passed) }
    public func check(_ kind: ConformanceCheck.Kind) -> ConformanceCheck? { checks.first { $0.kind == kind } }

    public var description: String {
        var s = "conformance of \(rule): \(passed ? "all checks pass" : "FAILED")\n"
        for c in checks { s += "  \(c)\n" }
        s += "  alignment with BPTT (mean cosine): " + alignment.map { "\($0.tensor) \(String(format: "%.3f", $0.cosine))" }.joined(separator: ", ")
        return s
    }
}

/// The learning-rule conformance kit (BioRNN's ValidatingALearningRule article): one call runs a rule through every check that
/// applies to it.
///
///     let report = ConformanceKit.run(name: "my-rule") { model in MyRule(model: model) }
///     #expect(report.passed, "\(report)")
///
/// Checks (``ConformanceCheck/Kind``), each on `cases` random small networks drawn from `seed`:
/// - **shapes and finiteness**: every gradient tensor has its parameter's shape and is finite, and
///   the reported loss equals an independent plain-loop evaluation (1e-12 relative: two
///   summation orders of ≤ 10³ terms);
/// - **determinism**: the same rule on the same batch gives bit-identical gradients;
/// - **permutation equivariance**: renumbering the units (and the rule's unit-indexed state, via
///   `permutingUnits`) renumbers the gradient (1e-10 relative to each tensor's norm: the same
///   sums in another order);
/// - **batch additivity**: the gradient on a batch is the average of the gradients on its trials
///   alone, as the loss averages them (1e-10 relative);
/// - **edge cases**: one time step, one unit (where the requirement allows it) and zero input
///   give a finite loss and gradient of the right shapes;
/// - **declared exact relations** (`exactRelations`): equal to BPTT, to BPTT when W_rec = 0, to
///   stop-gradient BPTT, or an exact readout — each to 1e-10 relative per tensor (BioRNN's LearningRules article);
/// - **learning**: training on the 2AF task (g = 1, `trainingIterations` steps of Adam)
///   lowers the held-out loss to at most 90% of its initial value (N = 16, 16 trials a batch).
///   Any rule that follows a descent direction clears this; a rule that does not learn fails.
public enum ConformanceKit {
    public struct Options: Sendable {
        /// What the rule needs of a network, as the rule declares it (`MyRule.requirement`): the
        /// random networks are drawn to satisfy it. With none, any activation and Gaussian
        /// weights (random biases and h0); with Dale signs, Dale networks (relu unless another
        /// activation is required) with positive biases.
        public var requirement: NetworkRequirement = .none
        public var cases = 12
        public var seed: UInt64 = 2024
        public var trainingIterations = 60
        public init(requirement: NetworkRequirement = .none) { self.requirement = requirement }
    }

    /// A random network and batch for case `index`.
    public static func network(_ index: Int, _ options: Options) -> (RNN, Batch) {
        var rng = RandomStream(seed: options.seed, purpose: .testCase, index: index)
        let units = min(4 + rng.index(below: 7), options.requirement.maxUnits ?? .max), inputs = 1 + rng.index(below: 3), outputs = 2 + rng.index(below: 2)
        let steps = 2 + rng.index(below: 11), trials = 1 + rng.index(below: 3)
        let alpha = rng.uniform(0.1, 1)
        let loss: LossKind = rng.bernoulli(0.5) ? .mse : .xent
        let requirement = options.requirement
        if !requirement.daleSigns {
            let drawn = [Activation.tanh, .softplus, .retanh, .relu, .linear][rng.index(below: 5)]
            let c = RandomNetworkCase(seed: rng.next(), units: units, inputs: inputs, outputs: outputs, steps: steps,
                                      trials: trials, alpha: alpha, activation: requirement.activation ?? drawn, loss: loss)
            return (c.model, c.batch)
        } else {
            let c = RandomNetworkCase(seed: rng.next(), units: units, inputs: inputs, outputs: outputs, steps: steps,
                                      trials: trials, alpha: alpha, activation: requirement.activation ?? .relu, loss: loss)
            var model = c.model
            var wrng = RandomStream(seed: rng.next(), purpose: .network)
            let (w, signs) = Connectivity.dale(gain: 1.2).recurrentWeights(units: units, using: &wrng)
            model.parameters.wRec = w
            model.daleSigns = signs
            // Positive biases keep most relu units active, as in a working Dale network.
            model.parameters.bRec = model.parameters.bRec.map { abs($0) + 0.2 }
            return (model, c.batch)
        }
    }

    public static func run(name: String, options: Options = Options(), make: (RNN) throws -> any LearningRule) -> ConformanceReport {
        var checks: [ConformanceCheck] = []
        var failures: [ConformanceCheck.Kind: [String]] = [:]
        var cosines: [String: [Double]] = [:]
        var relations = Set<ExactRelation>()
        func fail(_ check: ConformanceCheck.Kind, _ message: String) { failures[check, default: []].append(message) }

        for index in 0..<options.cases {
            let (model, batch) = network(index, options)
            let rule: any LearningRule
            do { rule = try make(model) } catch {
                return ConformanceReport(rule: name, checks: [ConformanceCheck(kind: .construction, passed: false, detail: "\(error)")], alignment: [])
            }
            relations = rule.exactRelations
            let out = rule.gradient(of: model, on: batch)
            let bptt = BPTT().gradient(of: model, on: batch)

            // Shapes and finiteness. A case with wrong shapes goes no further: the other checks
            // would index past its arrays.
            var shapesOK = true
            for (tensor, path) in Parameters.tensors {
                let g = out.gradients[keyPath: path], p = model.parameters[keyPath: path]
                if g.count != p.count { fail(.shapesAndFiniteness, "case \(index): \(tensor) has \(g.count) entries, expected \(p.count)"); shapesOK = false }
                if !g.allSatisfy(\.isFinite) { fail(.shapesAndFiniteness, "case \(index): \(tensor) is not finite") }
            }
            if out.gradients.wRec.rows != model.units || out.gradients.wIn.cols != model.inputs || out.gradients.wOut.rows != model.outputs {
                fail(.shapesAndFiniteness, "case \(index): matrix dimensions differ from the parameters'")
                shapesOK = false
            }
            let reference = ReferenceRNN.loss(model, batch)
            if abs(out.loss - reference) > 1e-12 * max(1, abs(reference)) {
                fail(.shapesAndFiniteness, "case \(index): loss \(out.loss), reference \(reference)")
            }

            // Determinism.
            let again = rule.gradient(of: model, on: batch)
            if again.gradients != out.gradients || again.loss.bitPattern != out.loss.bitPattern { fail(.determinism, "case \(index): two calls differ") }
            guard shapesOK else { continue }

            // Permutation equivariance.
            var prng = RandomStream(seed: options.seed, purpose: .permutation, index: index)
            var permutation = Array(0..<model.units)
            for i in stride(from: permutation.count - 1, to: 0, by: -1) { permutation.swapAt(i, prng.index(below: i + 1)) }
            let permutedOut = rule.permutingUnits(permutation).gradient(of: permuted(model, permutation), on: batch)
            let expected = permutedParameters(out.gradients, permutation)
            for (tensor, mismatch) in compare(permutedOut.gradients, expected, tolerance: 1e-10) {
                fail(.permutationEquivariance, "case \(index): \(tensor) off by \(mismatch) (relative)")
            }

            // Batch additivity: E averages the trials' losses, so the gradient on the batch is the
            // average of the gradients on its trials alone (rounding: 1e-10 relative).
            if batch.trials > 1 {
                var mean = Parameters(zerosLike: model.parameters)
                for b in 0..<batch.trials {
                    let single = rule.gradient(of: model, on: batch.trial(b)).gradients
                    for (_, path) in Parameters.tensors {
                        mean[keyPath: path] = zip(mean[keyPath: path], single[keyPath: path]).map { $0 + $1 / Double(batch.trials) }
                    }
                }
                for (tensor, mismatch) in compare(out.gradients, mean, tolerance: 1e-10) {
                    fail(.batchAdditivity, "case \(index): \(tensor) off by \(mismatch) (relative)")
                }
            }

            // Declared exact relations.
            for relation in rule.exactRelations.sorted(by: { $0.rawValue < $1.rawValue }) {
                switch relation {
                case .equalsBPTT:
                    for (t, e) in compare(out.gradients, bptt.gradients, tolerance: 1e-10) { fail(.equalsBPTT, "case \(index): \(t) off by \(e)") }
                case .exactReadout:
                    for (t, e) in compare(out.gradients, bptt.gradients, tolerance: 1e-10, only: ["w_out", "b_out"]) { fail(.exactReadout, "case \(index): \(t) off by \(e)") }
                case .equalsStopGradientBPTT:
                    let sg = StopGradientBPTT().gradient(of: model, on: batch)
                    for (t, e) in compare(out.gradients, sg.gradients, tolerance: 1e-10) { fail(.equalsStopGradientBPTT, "case \(index): \(t) off by \(e)") }
                case .equalsBPTTWithoutRecurrence:
                    var open = model
                    open.parameters.wRec = Matrix(rows: model.units, cols: model.units)
                    let local = (try? make(open))?.gradient(of: open, on: batch).gradients
                    let exact = BPTT().gradient(of: open, on: batch).gradients
                    if let local {
                        for (t, e) in compare(local, exact, tolerance: 1e-10) { fail(.equalsBPTTWithoutRecurrence, "case \(index): \(t) off by \(e)") }
                    } else {
                        fail(.equalsBPTTWithoutRecurrence, "case \(index): the rule cannot be built for W_rec = 0")
                    }
                }
            }

            // Alignment (reported).
            for (tensor, path) in Parameters.tensors {
                let (a, b) = (out.gradients[keyPath: path], bptt.gradients[keyPath: path])
                let (na, nb) = (euclideanNorm(a), euclideanNorm(b))
                if na > 0 && nb > 0 { cosines[tensor, default: []].append(dot(a, b) / (na * nb)) }
            }
        }

        for (label, model, batch) in edgeCases(options) {
            guard let rule = try? make(model) else { fail(.edgeCases, "\(label): the rule cannot be built"); continue }
            let out = rule.gradient(of: model, on: batch)
            let finite = out.loss.isFinite && out.gradients.isFinite
            let shaped = Parameters.tensors.allSatisfy { out.gradients[keyPath: $0.path].count == model.parameters[keyPath: $0.path].count }
            if !finite || !shaped { fail(.edgeCases, "\(label): \(shaped ? "a loss or gradient that is not finite" : "wrong shapes")") }
        }

        let kinds: [ConformanceCheck.Kind] = [.shapesAndFiniteness, .determinism, .permutationEquivariance, .batchAdditivity, .edgeCases]
            + relations.sorted { $0.rawValue < $1.rawValue }.map(ConformanceCheck.Kind.init)
        for kind in kinds {
            let f = failures[kind] ?? []
            checks.append(ConformanceCheck(kind: kind, passed: f.isEmpty,
                                           detail: f.isEmpty ? "\(options.cases) random networks" : f.prefix(3).joined(separator: "; ") + (f.count > 3 ? "; … (\(f.count) in all)" : "")))
        }
        checks.append(learningCheck(options, make))
        let alignment = Parameters.tensors.map(\.name).compactMap { t in cosines[t].map { (t, $0.reduce(0, +) / Double($0.count)) } }
        return ConformanceReport(rule: name, checks: checks, alignment: alignment)
    }

    /// Networks at the edges every rule must handle without a NaN: one time step, one unit
    /// (where the rule's requirement allows it: Dale networks need two), and zero input.
    static func edgeCases(_ options: Options) -> [(String, RNN, Batch)] {
        let (model, batch) = network(0, options)
        let first = batch.trials * batch.inputSize, rows = batch.trials
        let oneStep = Batch(steps: 1, trials: batch.trials, inputSize: batch.inputSize, inputs: Array(batch.inputs.prefix(first)),
                            targets: batch.targets.map { Array($0.prefix(rows * batch.targetSize)) }, targetSize: batch.targetSize,
                            labels: batch.labels.map { Array($0.prefix(rows)) }, mask: Array(repeating: 1, count: rows))
        var silent = batch
        silent.inputs = Array(repeating: 0, count: batch.inputs.count)
        var cases = [("T = 1", model, oneStep), ("zero input", model, silent)]
        if !options.requirement.daleSigns {
            let c = RandomNetworkCase(seed: options.seed, units: 1, inputs: batch.inputSize, outputs: model.outputs, steps: batch.steps,
                                      trials: batch.trials, alpha: model.alpha, activation: options.requirement.activation ?? model.activation,
                                      loss: batch.lossKind)
            cases.append(("N = 1", c.model, c.batch))
        }
        return cases
    }

    static func learningCheck(_ options: Options, _ make: (RNN) throws -> any LearningRule) -> ConformanceCheck {
        var config = TrainingConfig(task: "perceptual-decision", rule: "custom", gain: 1.0, seed: options.seed, iterations: options.trainingIterations)
        config.units = 16          // small enough for RTRL (O(N⁴) per step) to train in about a second
        config.batchSize = 16
        config.logEvery = options.trainingIterations
        (config.initFamily, config.activation) = options.requirement.network(initFamily: config.initFamily, activation: config.activation)
        do {
            let result = try withoutActuallyEscaping(make) { make in try train(config, makeRule: make) }
            guard let first = result.metrics.first?.loss, let last = result.metrics.last?.loss else {
                return ConformanceCheck(kind: .learning, passed: false, detail: "no evaluation recorded")
            }
            let ok = result.status == .completed && last <= 0.9 * first
            return ConformanceCheck(kind: .learning, passed: ok, detail: "held-out loss \(fmt(first)) → \(fmt(last)) in \(options.trainingIterations) iterations (needs ≤ 90%)")
        } catch {
            return ConformanceCheck(kind: .learning, passed: false, detail: "\(error)")
        }
    }

    /// The network with unit p renumbered permutation[p] (inputs and outputs unchanged).
    public static func permuted(_ model: RNN, _ permutation: [Int]) -> RNN {
        var m = model
        m.parameters = permutedParameters(model.parameters, permutation)
        if let signs = model.daleSigns { m.daleSigns = permuteVector(signs, permutation) }
        return m
    }

    static func permutedParameters(_ p: Parameters, _ permutation: [Int]) -> Parameters {
        var q = p
        q.wRec = p.wRec.permutingRows(permutation).transposed.permutingRows(permutation).transposed
        q.wIn = p.wIn.permutingRows(permutation)
        q.wOut = p.wOut.transposed.permutingRows(permutation).transposed
        q.bRec = permuteVector(p.bRec, permutation)
        q.h0 = permuteVector(p.h0, permutation)
        return q
    }

    static func permuteVector(_ v: [Double], _ permutation: [Int]) -> [Double] {
        var out = v
        for p in 0..<v.count { out[permutation[p]] = v[p] }
        return out
    }

    /// Tensors whose max |a − b| exceeds tolerance × max(‖b‖, 1e-300), with that relative error.
    static func compare(_ a: Parameters, _ b: Parameters, tolerance: Double, only: Set<String>? = nil) -> [(String, Double)] {
        Parameters.tensors.compactMap { name, path in
            guard only?.contains(name) ?? true else { return nil }
            let (x, y) = (a[keyPath: path], b[keyPath: path])
            guard x.count == y.count else { return (name, .infinity) }
            let scale = max(euclideanNorm(y), 1e-300)
            let worst = zip(x, y).reduce(0.0) { max($0, abs($1.0 - $1.1)) } / scale
            return worst > tolerance || !worst.isFinite ? (name, worst) : nil
        }
    }

    static func fmt(_ x: Double) -> String { String(format: "%.4g", x) }
}
