import BioRNN
import BioRNNTesting
import Foundation
import Testing

@Suite("Training")
struct TrainingTests {
    @Test("2AF with BPTT from g = 1: held-out accuracy clearly above chance within 150 iterations")
    func perceptualDecisionLearns() throws {
        let result = try train(TrainingConfig(task: "perceptual-decision", rule: "bptt", gain: 1.0, seed: 1, iterations: 150))
        let first = try #require(result.metrics.first?.accuracy), last = try #require(result.metrics.last?.accuracy)
        // Chance is 0.5. Held-out accuracy over 256 trials has s.e. ≤ √(0.25/256) ≈ 0.031, so 0.7
        // is more than 6 s.e. above chance; the ideal observer of these trials reaches ≈ 0.86.
        #expect(result.status == .completed)
        #expect(last >= 0.7, "accuracy went from \(first) to \(last)")
        #expect(result.iterationsToCriterion != nil)
    }

    @Test("learning speed: the criterion holds from the first logged point that reaches it (≥, ≤), and the area is the curve's mean")
    func learningSpeed() throws {
        // 2AF (xent, criterion accuracy ≥ 0.8): the point exactly at 0.8 counts.
        let xent = try TaskRegistry.task(named: "perceptual-decision")
        let accuracies = [0.5, 0.7, 0.8, 0.9]
        let curve = accuracies.enumerated().map { MetricsRow(iteration: 10 * $0.offset, loss: 1, accuracy: $0.element) }
        let speed = LearningSpeed(metrics: curve, task: xent)
        #expect(speed.iterationsToCriterion == 20)
        #expect(speed.learningCurveArea == (0.5 + 0.7 + 0.8 + 0.9) / 4)          // exact: sums of these doubles, then one division
        #expect(LearningSpeed(metrics: Array(curve.prefix(2)), task: xent).iterationsToCriterion == nil)
        // Pattern generation (mse, criterion loss ≤ 0.1 × the initial loss), losses capped at the initial one.
        let mse = try TaskRegistry.task(named: "pattern-generation")
        let losses = [2.0, 3.0, 0.2, 0.1]
        let mseSpeed = LearningSpeed(metrics: losses.enumerated().map { MetricsRow(iteration: 5 * $0.offset, loss: $0.element) }, task: mse)
        #expect(mseSpeed.iterationsToCriterion == 10)
        #expect(mseSpeed.learningCurveArea == (1 + 1 + 0.1 + 0.05) / 4)
    }

    @Test("pattern generation with BPTT: held-out MSE falls at least 10× within 200 iterations")
    func patternGenerationLearns() throws {
        var config = TrainingConfig(task: "pattern-generation", rule: "bptt", gain: 1.0, seed: 1, iterations: 200)
        config.logEvery = 50
        let result = try train(config)
        let first = try #require(result.metrics.first?.loss), last = try #require(result.metrics.last?.loss)
        #expect(last <= first / 10, "MSE went from \(first) to \(last)")
    }

    @Test("λ_max is measured before and after training, driven and autonomous, and at every logged iteration")
    func lambdaMaxRecorded() throws {
        var config = TrainingConfig(task: "delayed-xor", rule: "bptt", gain: 2.0, seed: 3, iterations: 20)
        config.units = 32
        let r = try train(config)
        #expect(r.lambdaBefore.driven.isFinite && r.lambdaBefore.autonomous.isFinite && r.lambdaAfter.driven.isFinite)
        #expect(r.metrics.allSatisfy { $0.lambdaMax != nil })
        #expect(r.metrics.first?.lambdaMax == r.lambdaBefore.driven && r.metrics.last?.lambdaMax == r.lambdaAfter.driven)
        // The autonomous value is the Lyapunov module's λ_max of the initial network (same seeds).
        var options = LyapunovOptions(transient: 200, steps: 1000)
        options.initialConditionSeed = 3
        options.orthonormalSeed = 3
        #expect(r.lambdaBefore.autonomous == (try Lyapunov.maximalExponent(of: RNNMap(r.initialModel), options: options)).exponents[0])
        // The first three exponents, driven, before and after; descending.
        #expect(r.spectrumBefore.count == 3 && r.spectrumAfter.count == 3 && r.spectrumAfter == r.spectrumAfter.sorted(by: >))
    }

    struct Golden: Decodable { let relative_tolerance: Double; let losses: [Double] }

    @Test("golden curve: the first 20 training losses of 2AF/BPTT/seed 1 (fixtures/training)")
    func goldenCurve() throws {
        let golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: Fixtures.url("training/perceptual-decision-bptt-seed1.json")))
        var config = TrainingConfig(task: "perceptual-decision", rule: "bptt", gain: 1.0, seed: 1, iterations: 20)
        config.logEvery = 1
        let losses = try train(config).trainLosses
        #expect(losses.count == golden.losses.count)
        for (ours, reference) in zip(losses, golden.losses) {
            #expect(abs(ours - reference) <= golden.relative_tolerance * abs(reference), "\(ours) vs fixture \(reference)")
        }
    }

    /// A rule whose gradient turns into NaN after a few steps.
    struct PoisonedRule: LearningRule {
        let name = "poisoned"
        func gradient(of model: RNN, on batch: Batch) -> LossAndGradient {
            var g = BPTT().gradient(of: model, on: batch)
            if model.parameters.bOut[0] < -0.02 { g.gradients.wRec[0, 0] = .nan }
            g.gradients.bOut[0] = 1   // pushes b_out down every step
            return g
        }
    }

    @Test("a non-finite gradient ends the run as diverged, with the reason, instead of crashing")
    func divergence() throws {
        var config = TrainingConfig(task: "delayed-xor", rule: "bptt", gain: 1.0, seed: 2, iterations: 50)
        config.optimizer.clipNorm = nil
        let result = try train(config, makeRule: { _ in PoisonedRule() })
        #expect(result.status == .diverged)
        #expect(result.reason?.hasPrefix("gradient is not finite at iteration") == true)
        #expect(result.model.parameters.isFinite)
    }

    @Test("Dale networks keep their column signs through training")
    func daleSignsKept() throws {
        var config = TrainingConfig(task: "perceptual-decision", rule: "bptt", gain: 1.5, seed: 3, iterations: 30)
        config.initFamily = "dale"
        config.activation = .relu
        let result = try train(config)
        let signs = try #require(result.model.daleSigns)
        let w = result.model.parameters.wRec
        #expect((0..<w.rows).allSatisfy { i in (0..<w.cols).allSatisfy { j in w[i, j] * signs[j] >= 0 } })
        #expect(w != result.initialModel.parameters.wRec)
    }

    @Test("the same configuration trains to the same network, bit for bit")
    func determinism() throws {
        let config = TrainingConfig(task: "context-decision", rule: "bptt", gain: 0.8, seed: 4, iterations: 10)
        let (a, b) = (try train(config), try train(config))
        #expect(a.model == b.model && a.trainLosses == b.trainLosses)
    }

    @Test("invalid configurations are refused before training, naming the field")
    func invalidConfig() {
        var c = TrainingConfig(task: "perceptual-decision", rule: "bptt", gain: 1, seed: 1, iterations: 5)
        c.units = 0
        #expect(throws: InputError("units: must lie in 1…4096, got 0")) { try train(c) }
        c = TrainingConfig(task: "perceptual-decision", rule: "nope", gain: 1, seed: 1, iterations: 5)
        #expect(throws: InputError("rule: unknown rule 'nope' (known: bptt, rtrl, tbptt:K, eprop, eprop-random, rflo, modprop, modprop:μ)")) { try train(c) }
        c = TrainingConfig(task: "perceptual-decision", rule: "bptt", gain: -1, seed: 1, iterations: 5)
        #expect(throws: InputError("gain: must be a finite number ≥ 0, got -1.0")) { try train(c) }
    }
}
