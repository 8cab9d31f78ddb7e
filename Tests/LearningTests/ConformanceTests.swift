import BioRNN
import BioRNNTesting
import Foundation
import Testing

/// Feedback alignment through time (Lillicrap et al. 2016, applied to BPTT): exact
/// backpropagation through the recurrence, but the output error reaches the network through a
/// fixed random matrix B instead of W_outᵀ. Lives only here, to show the kit on a rule it was
/// not written around:
///
///     δ_t = (1 − α)·δ_{t+1} + (B·G_t + α·W_recᵀ δ_{t+1}) ⊙ φ'(a_t)
struct FeedbackAlignmentBPTT: LearningRule {
    let feedback: Matrix   // N×O
    var name: String { "feedback-alignment-bptt" }
    var exactRelations: Set<ExactRelation> { [.exactReadout] }
    func permutingUnits(_ permutation: [Int]) -> any LearningRule { FeedbackAlignmentBPTT(feedback: feedback.permutingRows(permutation)) }

    func gradient(of model: RNN, on batch: Batch) -> LossAndGradient {
        let p = model.parameters, alpha = model.alpha, phi = model.activation
        let (T, B, N, I, O) = (batch.steps, batch.trials, model.units, model.inputs, model.outputs)
        let tr = model.run(batch)
        let (loss, g) = lossAndOutputGradient(tr, batch)
        var grad = Parameters(zerosLike: p)
        for b in 0..<B {
            var delta = [Double](repeating: 0, count: N)
            for t in stride(from: T, through: 1, by: -1) {
                let row = (t - 1) * B + b
                let fromOutput = feedback.times(Array(g[(row * O)..<((row + 1) * O)]))
                let fromFuture = p.wRec.times(delta, .transposed)
                delta = (0..<N).map { j in (1 - alpha) * delta[j] + (fromOutput[j] + alpha * fromFuture[j]) * phi.derivative(tr.a[(t * B + b) * N + j]) }
                for j in 0..<N {
                    for i in 0..<N { grad.wRec[j, i] += alpha * delta[j] * tr.r[row * N + i] }
                    for i in 0..<I { grad.wIn[j, i] += alpha * delta[j] * batch.inputs[row * I + i] }
                    grad.bRec[j] += alpha * delta[j]
                }
            }
            let back = p.wRec.times(delta, .transposed)
            for j in 0..<N { grad.h0[j] += (1 - alpha) * delta[j] + alpha * back[j] * phi.derivative(p.h0[j]) }
            for t in 1...T {
                let row = (t - 1) * B + b
                for k in 0..<O {
                    grad.bOut[k] += g[row * O + k]
                    for j in 0..<N { grad.wOut[k, j] += g[row * O + k] * tr.r[(t * B + b) * N + j] }
                }
            }
        }
        return LossAndGradient(loss: loss, gradients: grad)
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

    @Test("every built-in rule passes the kit", arguments: builtIn)
    func builtInRules(name: String) {
        let report = ConformanceKit.run(name: name) { model in try RuleRegistry.rule(named: name, model: model, seed: 7) }
        print(report)
        #expect(report.passed, "\(report)")
        #expect(report.checks.count >= 5)
    }

    @Test("ModProp passes the kit on Dale/relu networks")
    func modProp() {
        let report = ConformanceKit.run(name: "modprop", options: .init(requirement: ModProp.requirement)) { model in try RuleRegistry.rule(named: "modprop", model: model, seed: 7) }
        print(report)
        #expect(report.passed, "\(report)")
    }

    @Test("a rule the kit was not written around (feedback-alignment BPTT) passes")
    func testOnlyRule() {
        let report = ConformanceKit.run(name: "feedback-alignment-bptt") { model in
            FeedbackAlignmentBPTT(feedback: EProp.randomFeedback(units: model.units, outputs: model.outputs, seed: 3))
        }
        print(report)
        #expect(report.passed, "\(report)")
        // Exact BPTT when the feedback is W_outᵀ: an independent check of the test rule itself.
        let c = RandomNetworkCase(seed: 4, units: 6, inputs: 2, outputs: 2, steps: 7, trials: 2, alpha: 0.4, activation: .tanh, loss: .xent)
        let aligned = FeedbackAlignmentBPTT(feedback: c.model.parameters.wOut.transposed).gradient(of: c.model, on: c.batch).gradients
        let exact = BPTT().gradient(of: c.model, on: c.batch).gradients
        for (name, path) in Parameters.tensors { #expect(relativeError(aligned, exact, path) <= exactTolerance, "\(name)") }
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
}
