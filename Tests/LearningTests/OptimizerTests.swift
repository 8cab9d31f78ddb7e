import BioRNN
import Foundation
import Testing

@Suite("Optimisers")
struct OptimizerTests {
    func params(_ v: Double) -> Parameters {
        Parameters(wIn: Matrix([[v]]), wRec: Matrix([[v]]), wOut: Matrix([[v]]), bRec: [v], bOut: [v], h0: [v])
    }

    @Test("Adam's first step moves each weight by η·g/(|g| + ε) against the gradient")
    func adamFirstStep() {
        var opt = Optimizer(OptimizerConfig(kind: .adam, learningRate: 0.1, clipNorm: nil))
        var p = params(1)
        opt.update(&p, with: params(0.5))
        // m̂ = g, v̂ = g² after bias correction: step = η·g/(|g| + ε).
        #expect(abs(p.wRec[0, 0] - (1 - 0.1 * 0.5 / (0.5 + 1e-8))) <= 4 * Double.ulpOfOne)
    }

    @Test("SGD with momentum: v₁ = g, v₂ = μg + g")
    func sgdMomentum() {
        var opt = Optimizer(OptimizerConfig(kind: .sgd, learningRate: 0.1, clipNorm: nil))
        var p = params(1)
        opt.update(&p, with: params(2))
        opt.update(&p, with: params(2))
        #expect(abs(p.h0[0] - (1 - 0.1 * 2 - 0.1 * (0.9 * 2 + 2))) <= 4 * Double.ulpOfOne)
    }

    @Test("AdamW decays the weights by η·λ·θ on top of Adam's step")
    func adamWDecay() {
        var adam = Optimizer(OptimizerConfig(kind: .adam, learningRate: 0.1, clipNorm: nil))
        var adamW = Optimizer(OptimizerConfig(kind: .adamw, learningRate: 0.1, clipNorm: nil))
        var (p, q) = (params(2), params(2))
        adam.update(&p, with: params(0.3))
        adamW.update(&q, with: params(0.3))
        #expect(abs((p.wIn[0, 0] - q.wIn[0, 0]) - 0.1 * 0.01 * 2) <= 4 * Double.ulpOfOne)
    }

    @Test("clipping rescales the gradient to norm c; SGD without momentum then moves by exactly η·c")
    func clipping() {
        var config = OptimizerConfig(kind: .sgd, learningRate: 1, clipNorm: 0.5)
        config.momentum = 0
        var opt = Optimizer(config)
        var p = params(0)
        opt.update(&p, with: params(3))   // ‖g‖ = 3·√6 > 0.5
        #expect(abs(p.norm() - 0.5) <= 4 * Double.ulpOfOne)
    }

    @Test("frozen tensors never move")
    func frozen() {
        var opt = Optimizer(OptimizerConfig(kind: .adam, learningRate: 0.1), trainable: [.wRec])
        var p = params(1)
        opt.update(&p, with: params(1))
        #expect(p.wRec[0, 0] != 1 && p.wIn[0, 0] == 1 && p.wOut[0, 0] == 1 && p.bRec == [1] && p.bOut == [1] && p.h0 == [1])
    }
}
