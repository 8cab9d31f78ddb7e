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

    /// The update runs in a vectorised kernel (`biornn_adam`); it must give the bits of the
    /// equations evaluated one entry at a time, as written here, over three steps of Adam and of
    /// AdamW. N = 5 makes tensors of 25, 10, 5 and 2 entries: whole vectors and every remainder path.
    @Test("Adam and AdamW equal their equations, entry by entry, bit for bit over three steps")
    func adamEqualsItsEquations() {
        for kind in [OptimizerConfig.Kind.adam, .adamw] {
            var rng = RandomStream(seed: 7)
            func random() -> Parameters {
                Parameters(wIn: .randomNormal(rows: 5, cols: 2, sd: 1, using: &rng), wRec: .randomNormal(rows: 5, cols: 5, sd: 1, using: &rng),
                           wOut: .randomNormal(rows: 2, cols: 5, sd: 1, using: &rng), bRec: (0..<5).map { _ in rng.normal() },
                           bOut: (0..<2).map { _ in rng.normal() }, h0: (0..<5).map { _ in rng.normal() })
            }
            let config = OptimizerConfig(kind: kind, learningRate: 0.05, clipNorm: nil)
            var opt = Optimizer(config)
            var ours = random(), expected = ours
            var m = Parameters(zerosLike: ours), v = m
            let decay = kind == .adamw ? config.weightDecay : 0
            for step in 1...3 {
                let g = random()
                opt.update(&ours, with: g)
                let c1 = 1 - pow(config.beta1, Double(step)), c2 = 1 - pow(config.beta2, Double(step))
                for (_, path) in Parameters.tensors {
                    for i in expected[keyPath: path].indices {
                        let gi = g[keyPath: path][i]
                        m[keyPath: path][i] = config.beta1 * m[keyPath: path][i] + (1 - config.beta1) * gi
                        v[keyPath: path][i] = config.beta2 * v[keyPath: path][i] + (1 - config.beta2) * gi * gi
                        let move = (m[keyPath: path][i] / c1) / ((v[keyPath: path][i] / c2).squareRoot() + config.epsilon)
                        expected[keyPath: path][i] -= config.learningRate * (move + decay * expected[keyPath: path][i])
                    }
                }
                #expect(ours == expected, "\(kind), step \(step)")
            }
        }
    }

    @Test("frozen tensors never move")
    func frozen() {
        var opt = Optimizer(OptimizerConfig(kind: .adam, learningRate: 0.1), trainable: [.wRec])
        var p = params(1)
        opt.update(&p, with: params(1))
        #expect(p.wRec[0, 0] != 1 && p.wIn[0, 0] == 1 && p.wOut[0, 0] == 1 && p.bRec == [1] && p.bOut == [1] && p.h0 == [1])
    }
}
