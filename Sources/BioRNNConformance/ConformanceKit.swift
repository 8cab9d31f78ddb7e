import BioRNN
import Foundation

/// The learning-rule conformance kit (BioRNN's ValidatingALearningRule article): one call runs a
/// rule through every check that applies to it and reports what each compared, the worst tensor
/// and its margin.
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
/// - **declared exact relations** (`exactRelations`) and **declared reductions** (`reductions`):
///   each to 1e-10 relative per tensor (the same sums in another order, or with terms that are
///   exactly zero in the special case);
/// - **online** (rules that are ``OnlineLearningRule``): the step increments sum to the gradient
///   (1e-10 relative per tensor, 1e-12 for the loss), changing the inputs and targets after step t
///   leaves every increment up to t bit for bit unchanged, and the state carried after the last
///   step has as many values for a trial of 2L steps as for one of L = max(3T + 1, K + 1), where K
///   is the rule's declared `bufferedSteps` (truncated BPTT's window; at most 2048);
/// - **alignment**: the mean cosine with BPTT in every cell of ``Options/alignment``, against the
///   author's ``Options/alignmentThresholds`` (a table in the report either way);
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
        /// Where alignment with BPTT is measured: initial families, gains and networks per cell
        /// (N = 16 on 2AF, 8 trials). A rule that needs Dale signs is measured on `dale` only.
        public var alignment = AlignmentGrid()
        /// The least mean cosine with BPTT, per tensor ("w_rec", "w_in", "b_rec", "h0"), that
        /// every cell of the alignment grid must reach. Empty: alignment is reported, not judged.
        public var alignmentThresholds: [String: Double] = [:]
        public init(requirement: NetworkRequirement = .none) { self.requirement = requirement }
    }

    public struct AlignmentGrid: Sendable {
        public var families = ["gaussian", "orthogonal"]
        public var gains = [0.5, 1, 2]
        public var networks = 3
        public init() {}
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

    /// One comparison check over all cases: its failures, and the worst relative error seen.
    struct Tally {
        let compared: String
        let tolerance: Double
        var failures: [String] = []
        var worst: (tensor: String, error: Double)?
        var cases = 0

        init(_ compared: String, tolerance: Double = 1e-10) { (self.compared, self.tolerance) = (compared, tolerance) }

        mutating func fail(_ message: String) { failures.append(message) }

        /// Records case `index` from the relative error of every tensor compared: a failure names
        /// the case's worst tensor.
        mutating func record(_ index: Int, _ errors: [(tensor: String, error: Double)]) {
            cases += 1
            let failing = errors.filter { !($0.error <= tolerance) }
            if let bad = failing.max(by: { !($0.error >= $1.error) }) {
                let others = failing.count > 1 ? " (and \(failing.count - 1) more tensor\(failing.count > 2 ? "s" : ""))" : ""
                failures.append("case \(index): \(bad.tensor) off by \(fmt(bad.error)) (tolerance \(fmt(tolerance)))\(others)")
            }
            for (tensor, error) in errors where error.isFinite && error > (worst?.error ?? -1) { worst = (tensor, error) }
        }

        func check(_ kind: ConformanceCheck.Kind) -> ConformanceCheck {
            if !failures.isEmpty {
                return ConformanceCheck(kind: kind, passed: false,
                                        detail: failures.prefix(3).joined(separator: "; ") + (failures.count > 3 ? "; … (\(failures.count) in all)" : ""))
            }
            var detail = "\(compared), \(cases) network\(cases == 1 ? "" : "s")"
            if let worst { detail += "; worst \(worst.tensor) \(fmt(worst.error)) (tolerance \(fmt(tolerance)))" }
            return ConformanceCheck(kind: kind, passed: true, detail: detail)
        }
    }

    /// Runs every check. `progress(done, total)` counts the parts finished: each random network,
    /// then the edge cases, the alignment grid and the learning check.
    public static func run(name: String, options: Options = Options(), progress: ((Int, Int) -> Void)? = nil,
                           make: (RNN) throws -> any LearningRule) -> ConformanceReport {
        let parts = options.cases + 3
        var shapes = Tally("shapes, finiteness, and the loss against a plain-loop reference", tolerance: 1e-12)
        var determinism = Tally("two calls on the same batch, bit for bit", tolerance: 0)
        var permutation = Tally("the renumbered network's gradient against the renumbered gradient")
        var additivity = Tally("the gradient on a batch against the mean of its trials' gradients")
        var relations: [ExactRelation: Tally] = [:]
        var reductions: [String: Tally] = [:], reductionOrder: [String] = []
        var online: OnlineTallies?

        for index in 0..<options.cases {
            progress?(index, parts)
            let (model, batch) = network(index, options)
            let rule: any LearningRule
            do { rule = try make(model) } catch {
                return ConformanceReport(rule: name, checks: [ConformanceCheck(kind: .construction, passed: false, detail: "\(error)")],
                                         online: .notOnline, alignment: [])
            }
            let out = rule.gradient(of: model, on: batch)

            // Shapes and finiteness. A case with wrong shapes goes no further: the other checks
            // would index past its arrays.
            shapes.cases += 1
            var shapesOK = true
            for (tensor, path) in Parameters.tensors {
                let g = out.gradients[keyPath: path], p = model.parameters[keyPath: path]
                if g.count != p.count { shapes.fail("case \(index): \(tensor) has \(g.count) entries, expected \(p.count)"); shapesOK = false }
                if !g.allSatisfy(\.isFinite) { shapes.fail("case \(index): \(tensor) is not finite") }
            }
            if out.gradients.wRec.rows != model.units || out.gradients.wIn.cols != model.inputs || out.gradients.wOut.rows != model.outputs {
                shapes.fail("case \(index): matrix dimensions differ from the parameters'")
                shapesOK = false
            }
            let reference = ReferenceRNN.loss(model, batch)
            let lossError = abs(out.loss - reference) / max(1, abs(reference))
            if !(lossError <= shapes.tolerance) { shapes.fail("case \(index): loss \(out.loss), reference \(reference)") }
            if shapes.worst.map({ lossError > $0.error }) ?? true { shapes.worst = ("loss", lossError) }

            // Determinism.
            let again = rule.gradient(of: model, on: batch)
            determinism.cases += 1
            if again.gradients != out.gradients || again.loss.bitPattern != out.loss.bitPattern { determinism.fail("case \(index): two calls differ") }
            guard shapesOK else { continue }

            // Permutation equivariance.
            var prng = RandomStream(seed: options.seed, purpose: .permutation, index: index)
            var order = Array(0..<model.units)
            for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, prng.index(below: i + 1)) }
            let permutedOut = rule.permutingUnits(order).gradient(of: permuted(model, order), on: batch)
            permutation.record(index, compare(permutedOut.gradients, permutedParameters(out.gradients, order)))

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
                additivity.record(index, compare(out.gradients, mean))
            }

            // Declared exact relations; BPTT's gradient on this case is computed once, if one needs it.
            lazy var bptt = BPTT().gradient(of: model, on: batch).gradients
            for relation in rule.exactRelations.sorted(by: { $0.rawValue < $1.rawValue }) {
                var tally = relations[relation] ?? Tally(relationCompared(relation))
                switch relation {
                case .equalsBPTT:
                    tally.record(index, compare(out.gradients, bptt))
                case .exactReadout:
                    tally.record(index, compare(out.gradients, bptt, only: ["w_out", "b_out"]))
                case .equalsStopGradientBPTT:
                    tally.record(index, compare(out.gradients, StopGradientBPTT().gradient(of: model, on: batch).gradients))
                case .equalsBPTTWithoutRecurrence:
                    var open = model
                    open.parameters.wRec = Matrix(rows: model.units, cols: model.units)
                    if let local = (try? make(open))?.gradient(of: open, on: batch).gradients {
                        tally.record(index, compare(local, BPTT().gradient(of: open, on: batch).gradients))
                    } else {
                        tally.fail("case \(index): the rule cannot be built for W_rec = 0")
                    }
                }
                relations[relation] = tally
            }

            // Declared reductions: the special case against the rule it must equal.
            for reduction in rule.reductions {
                if reductions[reduction.name] == nil { reductionOrder.append(reduction.name) }
                var tally = reductions[reduction.name] ?? Tally("the special case against \(reduction.reference)")
                do {
                    let instance = try reduction.instance(model, batch)
                    tally.record(index, compare(instance.rule.gradient(of: instance.model, on: batch).gradients,
                                                instance.reference.gradient(of: instance.model, on: batch).gradients))
                } catch {
                    tally.fail("case \(index): the special case cannot be built: \(error)")
                }
                reductions[reduction.name] = tally
            }

            // Online rules: increments, causality, state.
            if let rule = rule as? any OnlineLearningRule {
                var tallies = online ?? OnlineTallies()
                checkOnline(model, batch, gradient: out, index: index, options, bufferedSteps: rule.bufferedSteps, &tallies) { increments(rule, model, $0) }
                online = tallies
            } else if let rule = rule as? ExternalRule, rule.reportsIncrements {
                var tallies = online ?? OnlineTallies()
                checkOnline(model, batch, gradient: out, index: index, options, &tallies) { (rule.increments(of: model, on: $0), nil) }
                online = tallies
            }
        }

        progress?(options.cases, parts)
        var checks = [shapes.check(.shapesAndFiniteness), determinism.check(.determinism),
                      permutation.check(.permutationEquivariance), additivity.check(.batchAdditivity), edgeCaseCheck(options, make)]
        checks += relations.keys.sorted { $0.rawValue < $1.rawValue }.map { relations[$0]!.check(ConformanceCheck.Kind($0)) }
        checks += reductionOrder.map { reductions[$0]!.check(.reduction($0)) }
        var onlineStatus = OnlineStatus.notOnline
        if let online {
            let onlineChecks = online.checks()
            checks += onlineChecks
            onlineStatus = !onlineChecks.allSatisfy(\.passed) ? .failed
                : online.stateUnmeasured.map { .causal(stateNotMeasured: $0) } ?? .certified(carriedValues: online.carried ?? 0)
        }
        progress?(options.cases + 1, parts)
        let alignment = measureAlignment(options, make)
        if !options.alignmentThresholds.isEmpty { checks.append(alignmentCheck(alignment, options.alignmentThresholds)) }
        progress?(options.cases + 2, parts)
        checks.append(learningCheck(options, make))
        progress?(parts, parts)
        return ConformanceReport(rule: name, checks: checks, online: onlineStatus, alignment: alignment)
    }

    static func relationCompared(_ relation: ExactRelation) -> String {
        switch relation {
        case .equalsBPTT: "every tensor against BPTT"
        case .exactReadout: "w_out and b_out against BPTT"
        case .equalsStopGradientBPTT: "every tensor against stop-gradient BPTT"
        case .equalsBPTTWithoutRecurrence: "every tensor against BPTT, both at W_rec = 0"
        }
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

    static func edgeCaseCheck(_ options: Options, _ make: (RNN) throws -> any LearningRule) -> ConformanceCheck {
        let cases = edgeCases(options)
        var failures: [String] = []
        for (label, model, batch) in cases {
            guard let rule = try? make(model) else { failures.append("\(label): the rule cannot be built"); continue }
            let out = rule.gradient(of: model, on: batch)
            let finite = out.loss.isFinite && out.gradients.isFinite
            let shaped = Parameters.tensors.allSatisfy { out.gradients[keyPath: $0.path].count == model.parameters[keyPath: $0.path].count }
            if !finite || !shaped { failures.append("\(label): \(shaped ? "a loss or gradient that is not finite" : "wrong shapes")") }
        }
        return ConformanceCheck(kind: .edgeCases, passed: failures.isEmpty,
                                detail: failures.isEmpty ? cases.map(\.0).joined(separator: ", ") + ": finite, of the right shapes" : failures.joined(separator: "; "))
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

    /// max |a − b| / max(‖b‖, 1e-300) for every tensor (∞ on a shape mismatch).
    static func compare(_ a: Parameters, _ b: Parameters, only: Set<String>? = nil) -> [(tensor: String, error: Double)] {
        Parameters.tensors.compactMap { name, path in
            guard only?.contains(name) ?? true else { return nil }
            let (x, y) = (a[keyPath: path], b[keyPath: path])
            guard x.count == y.count else { return (name, .infinity) }
            let scale = max(euclideanNorm(y), 1e-300)
            // A NaN difference, once seen, stays the result.
            return (name, zip(x, y).reduce(0.0) { worst, pair in
                let d = abs(pair.0 - pair.1)
                return d.isNaN || d > worst ? d : worst
            } / scale)
        }
    }

    static func fmt(_ x: Double) -> String { String(format: "%.2g", x) }
}
