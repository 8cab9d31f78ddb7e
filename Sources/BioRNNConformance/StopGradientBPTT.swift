import BioRNN
import Foundation

/// Test reference: BPTT with the recurrent path W_rec·φ(a_{t−1}) cut (the leak kept), written
/// with plain loops on `ReferenceRNN` states, independently of the e-prop code it checks:
///
///     δ_t = (1 − α)·δ_{t+1} + (W_outᵀ G_t) ⊙ φ'(a_t),   δ_0 = (1 − α)·δ_1
///     ∂W_rec = α·Σ_t δ_t r_{t−1}ᵀ,  ∂W_in = α·Σ_t δ_t x_tᵀ,  ∂b_rec = α·Σ_t δ_t,  ∂h0 = δ_0
public struct StopGradientBPTT: LearningRule {
    public init() {}
    public var name: String { "stop-gradient-bptt" }

    public func gradient(of model: RNN, on batch: Batch) -> LossAndGradient {
        let p = model.parameters, alpha = model.alpha, phi = model.activation
        let (T, B, N, I, O) = (batch.steps, batch.trials, model.units, model.inputs, model.outputs)
        var grad = Parameters(zerosLike: p)
        for b in 0..<B {
            let a = ReferenceRNN.states(model, batch, trial: b)
            let y = ReferenceRNN.outputs(model, batch, trial: b)
            var delta = [Double](repeating: 0, count: N)
            for t in stride(from: T, through: 1, by: -1) {
                let m = batch.mask[(t - 1) * B + b]
                var g = [Double](repeating: 0, count: O)
                if m != 0 {
                    if let targets = batch.targets {
                        for k in 0..<O { g[k] = m * (y[t - 1][k] - targets[((t - 1) * B + b) * O + k]) / Double(B) }
                    } else {
                        let label = batch.labels![(t - 1) * B + b]
                        let top = y[t - 1].max()!
                        let z = y[t - 1].reduce(0) { $0 + exp($1 - top) }
                        for k in 0..<O { g[k] = m * (exp(y[t - 1][k] - top) / z - (k == label ? 1 : 0)) / Double(B) }
                    }
                }
                for j in 0..<N {
                    var signal = 0.0
                    for k in 0..<O { signal += p.wOut[k, j] * g[k] }
                    delta[j] = (1 - alpha) * delta[j] + signal * phi.derivative(a[t][j])
                }
                for j in 0..<N {
                    for i in 0..<N { grad.wRec[j, i] += alpha * delta[j] * phi(a[t - 1][i]) }
                    for i in 0..<I { grad.wIn[j, i] += alpha * delta[j] * batch.inputs[((t - 1) * B + b) * I + i] }
                    grad.bRec[j] += alpha * delta[j]
                }
                for k in 0..<O {
                    grad.bOut[k] += g[k]
                    for j in 0..<N { grad.wOut[k, j] += g[k] * phi(a[t][j]) }
                }
            }
            for j in 0..<N { grad.h0[j] += (1 - alpha) * delta[j] }
        }
        return LossAndGradient(loss: ReferenceRNN.loss(model, batch), gradients: grad)
    }
}
