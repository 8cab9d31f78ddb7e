import BioRNN
import BioRNNConformance
import BioRNNTesting
import Foundation
import Testing

/// Random-feedback e-prop from the public building blocks, with its trace time constant off by
/// `traceError` (α·(1 + traceError) in every trace). It declares no exact relation but the
/// readout, only its special case: with B = W_outᵀ it is stop-gradient BPTT.
struct TraceErrorEProp: LearningRule {
    let feedback: Matrix
    let traceError: Double
    var name: String { "trace-error-eprop" }
    var exactRelations: Set<ExactRelation> { [.exactReadout] }
    var reductions: [Reduction] {
        [Reduction("B = W_outᵀ", equals: "stop-gradient BPTT") { [traceError] model, _ in
            .init(rule: TraceErrorEProp(feedback: model.parameters.wOut.transposed, traceError: traceError), model: model, reference: StopGradientBPTT())
        }]
    }
    func permutingUnits(_ order: [Int]) -> any LearningRule { TraceErrorEProp(feedback: feedback.permutingRows(order), traceError: traceError) }

    func gradient(of model: RNN, on batch: Batch) -> LossAndGradient {
        let (T, B, N, O) = (batch.steps, batch.trials, model.units, model.outputs)
        let alpha = model.alpha * (1 + traceError)
        let tr = model.run(batch)
        let (loss, g) = lossAndOutputGradient(tr, batch)
        var l = Matrix.product(.none, Matrix(rows: T * B, cols: O, storage: g), .transposed, feedback).storage
        for i in l.indices { l[i] *= model.activation.derivative(tr.a[B * N + i]) }          // l_t = (B·G_t) ⊙ φ'(a_t)
        var grad = Parameters(zerosLike: model.parameters)
        grad.wRec = eligibilityProducts(post: l, pre: presynapticTraces(of: tr.r, steps: T, block: B * N, alpha: alpha), rows: T * B)
        grad.wIn = eligibilityProducts(post: l, pre: presynapticTraces(of: batch.inputs, steps: T, block: B * model.inputs, alpha: alpha), rows: T * B)
        var (bBar, hBar) = (0.0, 1.0)
        for t in 1...T {
            (bBar, hBar) = ((1 - alpha) * bBar + alpha, hBar * (1 - model.alpha))
            for i in ((t - 1) * B * N)..<(t * B * N) { grad.bRec[i % N] += bBar * l[i]; grad.h0[i % N] += hBar * l[i] }
        }
        readoutGradients(&grad, batch, tr, g)
        return LossAndGradient(loss: loss, gradients: grad)
    }
}

/// Online e-prop that also reads the next step's input: its increments still sum to its
/// gradient, but it is not causal.
struct FuturePeekingEProp: OnlineLearningRule {
    var name: String { "future-peeking" }
    func gradient(of model: RNN, on batch: Batch) -> LossAndGradient { onlineGradient(of: model, on: batch) }
    func initialState(_ model: RNN, trials: Int) -> EPropOnlineState { EProp().initialState(model, trials: trials) }
    func step(_ state: inout EPropOnlineState, _ model: RNN, _ batch: Batch) -> LossAndGradient {
        var out = EProp().step(&state, model, batch)
        let next = state.forward.step * batch.trials * batch.inputSize      // x_{t+1} of trial 0
        if next < batch.inputs.count { out.gradients.bOut[0] += 1e-3 * batch.inputs[next] }
        return out
    }
}

/// Online e-prop that keeps every past rate: correct and causal, but its state grows with T.
struct HistoryKeepingEProp: OnlineLearningRule {
    struct State { var eprop: EPropOnlineState; var history: [Double] }
    var name: String { "history-keeping" }
    func gradient(of model: RNN, on batch: Batch) -> LossAndGradient { EProp().gradient(of: model, on: batch) }
    func initialState(_ model: RNN, trials: Int) -> State { State(eprop: EProp().initialState(model, trials: trials), history: []) }
    func step(_ state: inout State, _ model: RNN, _ batch: Batch) -> LossAndGradient {
        let out = EProp().step(&state.eprop, model, batch)
        state.history += state.eprop.forward.r
        return out
    }
}

/// e-prop with a sign error in its presynaptic trace (r̄ ← (1−α)r̄ − α·r): every recurrent-side
/// estimate flips sign. It claims e-prop's exact relations, which the kit must refute.
struct BrokenEProp: LearningRule {
    var name: String { "broken-eprop" }
    var exactRelations: Set<ExactRelation> { EProp().exactRelations }
    func gradient(of model: RNN, on batch: Batch) -> LossAndGradient {
        var out = EProp().gradient(of: model, on: batch)
        for (name, path) in Parameters.tensors where ["w_rec", "w_in", "b_rec", "h0"].contains(name) {
            out.gradients[keyPath: path] = out.gradients[keyPath: path].map { -$0 }
        }
        return out
    }
}

@Suite("Conformance kit")
struct ConformanceTests {
    static let builtIn = ["bptt", "rtrl", "tbptt:3", "eprop", "eprop-random", "rflo"]

    @Test("every built-in rule passes the kit; all but BPTT are certified online", arguments: builtIn)
    func builtInRules(name: String) {
        let report = ConformanceKit.run(name: name) { model in try RuleRegistry.rule(named: name, model: model, seed: 7) }
        print(report)
        #expect(report.passed, "\(report)")
        #expect(report.checks.count >= 5)
        if name == "bptt" {
            #expect(report.online == .notOnline)
        } else {
            guard case .certified = report.online else { Issue.record("\(name) is not certified online: \(report)"); return }
        }
    }

    @Test("ModProp passes the kit on Dale/relu networks, online included")
    func modProp() {
        let report = ConformanceKit.run(name: "modprop", options: .init(requirement: ModProp.requirement)) { model in try RuleRegistry.rule(named: "modprop", model: model, seed: 7) }
        print(report)
        #expect(report.passed, "\(report)")
        guard case .certified = report.online else { Issue.record("not certified online: \(report)"); return }
    }

    /// A rule declared only through one reduction: without its planted bug it passes every check;
    /// with it, that reduction is the one check that fails, and its line names the reduction, the
    /// first case and a recurrent-side tensor.
    func expectOnlyReductionCatches(_ name: String, good: ConformanceReport, bad: ConformanceReport) {
        let reduction = ConformanceCheck.Kind.reduction(name)
        #expect(good.passed, "\(good)")
        #expect(good.check(reduction)?.passed == true)
        #expect(bad.check(reduction)?.description.hasPrefix("FAIL  reduction: \(name): case 0: ") == true, "\(bad)")
        #expect(bad.check(reduction)?.detail.contains(#/case 0: (w_rec|w_in|b_rec|h0) off by/#) == true, "\(bad)")
        // Nothing else can see the bug: every check but the reduction passes.
        #expect(bad.checks.filter { !$0.passed }.map(\.kind) == [reduction], "\(bad)")
    }

    @Test("the documentation's example rule (feedback alignment through time) passes; with its recurrent credit ×0.9 it fails its reduction, naming it and the tensor")
    func approximateRuleThroughItsReduction() {
        func report(credit: Double) -> ConformanceReport {
            ConformanceKit.run(name: "fatt") { model in
                FeedbackAlignmentThroughTime(feedback: EProp.randomFeedback(units: model.units, outputs: model.outputs, seed: 3), recurrentCredit: credit)
            }
        }
        let bad = report(credit: 0.9)
        print(bad)
        expectOnlyReductionCatches("with B = W_outᵀ it equals BPTT", good: report(credit: 1), bad: bad)
    }

    @Test("random-feedback e-prop with its trace time constant 2% off fails its only declared reduction (B = W_outᵀ), naming the tensor; without the error it passes")
    func traceErrorThroughItsReduction() {
        func report(error: Double) -> ConformanceReport {
            ConformanceKit.run(name: "trace-error-eprop") { model in
                TraceErrorEProp(feedback: EProp.randomFeedback(units: model.units, outputs: model.outputs, seed: 5), traceError: error)
            }
        }
        let bad = report(error: 0.02)
        print(bad)
        expectOnlyReductionCatches("with B = W_outᵀ it equals stop-gradient BPTT", good: report(error: 0), bad: bad)
    }

    @Test("every built-in rule declares its reductions, and the kit runs them")
    func builtInReductions() {
        let declared: [(String, String)] = [("tbptt:3", "with K ≥ T it equals BPTT"), ("eprop-random", "with B = W_outᵀ it equals symmetric e-prop"),
                                            ("rflo", "with the same B it equals random-feedback e-prop")]
        for (rule, reduction) in declared {
            let report = ConformanceKit.run(name: rule) { model in try RuleRegistry.rule(named: rule, model: model, seed: 7) }
            #expect(report.check(.reduction(reduction))?.passed == true, "\(report)")
        }
        let modprop = ConformanceKit.run(name: "modprop", options: .init(requirement: ModProp.requirement)) { model in try ModProp(model: model) }
        #expect(modprop.check(.reduction("with the modulation off it equals symmetric e-prop"))?.passed == true, "\(modprop)")
    }

    @Test("online checks: a rule that peeks one step ahead fails causality, one whose state grows with T fails the state bound")
    func onlineFailures() {
        let peeking = ConformanceKit.run(name: "future-peeking") { _ in FuturePeekingEProp() }
        print(peeking)
        #expect(peeking.check(.causality)?.passed == false, "\(peeking)")
        #expect(peeking.check(.incrementsSumToGradient)?.passed == true && peeking.check(.boundedState)?.passed == true)
        #expect(peeking.online == .failed)
        let growing = ConformanceKit.run(name: "history-keeping") { _ in HistoryKeepingEProp() }
        print(growing)
        #expect(growing.check(.boundedState)?.passed == false, "\(growing)")
        #expect(growing.check(.causality)?.passed == true && growing.check(.incrementsSumToGradient)?.passed == true)
        #expect(growing.online == .failed)
    }

    @Test("alignment thresholds turn the table into a check: e-prop-random clears cosine ≥ −1 everywhere and fails ≥ 0.99, naming the cell")
    func alignmentThresholds() {
        func report(_ least: Double) -> ConformanceReport {
            var options = ConformanceKit.Options()
            options.alignmentThresholds = ["w_rec": least]
            options.cases = 2
            return ConformanceKit.run(name: "eprop-random", options: options) { model in try RuleRegistry.rule(named: "eprop-random", model: model, seed: 7) }
        }
        let loose = report(-1), strict = report(0.99)
        #expect(loose.check(.alignment)?.passed == true, "\(loose)")
        #expect(strict.check(.alignment)?.passed == false)
        #expect(strict.check(.alignment)?.detail.contains("gaussian g=0.5: w_rec cosine") == true, "\(strict)")
        #expect(loose.alignment.count == 6 && loose.alignment.allSatisfy { $0.cosine["w_rec"].map { (-1...1).contains($0) } ?? false })
    }

    @Test("a broken rule (sign error in the trace) fails the kit, on the checks that catch it")
    func brokenRuleFails() {
        let report = ConformanceKit.run(name: "broken-eprop") { _ in BrokenEProp() }
        print(report)
        #expect(!report.passed)
        #expect(report.check(.equalsStopGradientBPTT)?.passed == false)
        #expect(report.check(.equalsBPTTWithoutRecurrence)?.passed == false)
        #expect(report.check(.exactReadout)?.passed == true)          // the readout is untouched
        #expect(report.check(.determinism)?.passed == true)
    }

    @Test("a rule whose gradient shape is wrong, or that is not deterministic, fails those checks")
    func shapeAndDeterminismFailures() {
        struct Wrong: LearningRule {
            var name: String { "wrong" }
            func gradient(of model: RNN, on batch: Batch) -> LossAndGradient {
                var out = BPTT().gradient(of: model, on: batch)
                out.gradients.bRec.append(0)
                out.gradients.h0[0] += Double.random(in: 0..<1)   // nondeterministic on purpose
                return out
            }
        }
        let report = ConformanceKit.run(name: "wrong") { _ in Wrong() }
        #expect(report.check(.shapesAndFiniteness)?.passed == false)
        #expect(report.check(.determinism)?.passed == false)
    }

    @Test("a rule that sums its trials' gradients instead of averaging them, or divides by T − 1, fails batch additivity or the edge cases")
    func additivityAndEdgeFailures() {
        struct Summing: LearningRule {
            var name: String { "summing" }
            func gradient(of model: RNN, on batch: Batch) -> LossAndGradient {
                var out = BPTT().gradient(of: model, on: batch)
                for (_, path) in Parameters.tensors { out.gradients[keyPath: path] = out.gradients[keyPath: path].map { $0 * Double(batch.trials) } }
                return out
            }
        }
        struct PerExtraStep: LearningRule {
            var name: String { "per-extra-step" }
            func gradient(of model: RNN, on batch: Batch) -> LossAndGradient {
                var out = BPTT().gradient(of: model, on: batch)
                let scale = Double(batch.steps - 1) / Double(batch.steps - 1)      // 0/0 at T = 1
                out.gradients.wRec = scale * out.gradients.wRec
                return out
            }
        }
        let summing = ConformanceKit.run(name: "summing") { _ in Summing() }
        #expect(summing.check(.batchAdditivity)?.passed == false, "\(summing)")
        #expect(summing.check(.determinism)?.passed == true && summing.check(.edgeCases)?.passed == true)
        let edge = ConformanceKit.run(name: "per-extra-step") { _ in PerExtraStep() }
        #expect(edge.check(.edgeCases)?.passed == false, "\(edge)")
        #expect(edge.check(.edgeCases)?.detail.contains("T = 1") == true)
        #expect(edge.check(.batchAdditivity)?.passed == true && edge.check(.equalsBPTT) == nil)
    }

    /// The sample report in the documentation and the README, and how it is kept equal to the
    /// kit's output: `BIORNN_RECORD_DOCS=1` rewrites it. Errors below 1e-12 are rounding and may
    /// differ between machines (their BLAS and elementwise kernels), so they compare as equal, and
    /// so does the name of the tensor with the worst of them ("worst w_in ε" and "worst b_out ε").
    @Test("the sample report in the documentation and the README is the kit's output for eprop-random")
    func sampleReport() throws {
        let report = ConformanceKit.run(name: "eprop-random") { model in try RuleRegistry.rule(named: "eprop-random", model: model, seed: 7) }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        func rounding(_ text: String) -> String {
            text.replacing(#/[0-9](\.[0-9]+)?e-(1[3-9]|[2-9][0-9])/#, with: "ε").replacing(#/worst [a-z0-9_]+ ε/#, with: "worst ε")
        }
        for file in ["Sources/BioRNN/BioRNN.docc/ValidatingALearningRule.md", "README.md"] {
            let url = root.appendingPathComponent(file)
            let doc = try String(contentsOf: url, encoding: .utf8)
            guard let anchor = doc.range(of: "conform --rule eprop-random"),
                  let open = doc.range(of: "```text\n", range: anchor.upperBound..<doc.endIndex),
                  let close = doc.range(of: "```\n", range: open.upperBound..<doc.endIndex) else {
                Issue.record("\(file): no ```text block after `conform --rule eprop-random`")
                continue
            }
            if ProcessInfo.processInfo.environment["BIORNN_RECORD_DOCS"] == "1" {
                try doc.replacingCharacters(in: open.upperBound..<close.lowerBound, with: report.description).write(to: url, atomically: true, encoding: .utf8)
                continue
            }
            #expect(rounding(String(doc[open.upperBound..<close.lowerBound])) == rounding(report.description),
                    "\(file): the sample report differs from the kit's output; if intended, rerun with BIORNN_RECORD_DOCS=1\n\(report)")
        }
    }
}
