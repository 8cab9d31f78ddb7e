/// The network advanced one step at a time, for rules that learn online: the B×N blocks a_t and
/// r_t = φ(a_t) of every trial (row b, unit j at `[b·N + j]`), and the private-noise stream.
///
///     a_t = (1 − α)·a_{t−1} + α·(W_rec·r_{t−1} + W_in·x_t + b_rec) [+ √α·σ·ξ_t],   y_t = W_out·r_t + b_out
///
/// Step by step it computes what `RNN.run` computes for all steps at once (the same noise draws,
/// in the same order); the sums run in another order, so the two agree to rounding.
public struct OnlineForward: Sendable {
    /// a_t, B×N.
    public private(set) var a: [Double]
    /// r_t = φ(a_t), B×N.
    public private(set) var r: [Double]
    /// The step last advanced to (0: the initial state h0).
    public private(set) var step = 0
    var noise: RandomStream

    /// a_0 = h0 in every trial.
    public init(_ model: RNN, trials: Int, noiseSeed: UInt64 = 0) {
        let h0 = model.parameters.h0, phi = model.activation
        a = (0..<trials).flatMap { _ in h0 }
        r = a.map { phi($0) }
        noise = RandomStream(seed: noiseSeed, purpose: .noise)
    }

    /// Advances from step t − 1 to t with x_t (the batch's step-t block, and nothing later) and
    /// returns the outputs y_t, B×O.
    public mutating func advance(_ model: RNN, _ batch: Batch) -> [Double] {
        step += 1
        let t = step, p = model.parameters, alpha = model.alpha, phi = model.activation
        let (B, N, I, O) = (batch.trials, model.units, model.inputs, model.outputs)
        precondition(t <= batch.steps, "the batch has \(batch.steps) steps")
        let noiseScale = alpha.squareRoot() * model.noiseSD
        var y = [Double](repeating: 0, count: B * O)
        for b in 0..<B {
            let previous = Array(r[(b * N)..<((b + 1) * N)])
            let x = Array(batch.inputs[(((t - 1) * B + b) * I)..<(((t - 1) * B + b + 1) * I)])
            let recurrent = p.wRec.times(previous), drive = p.wIn.times(x)
            for j in 0..<N {
                a[b * N + j] = (1 - alpha) * a[b * N + j] + alpha * (recurrent[j] + drive[j] + p.bRec[j])
            }
            if noiseScale > 0 { for j in 0..<N { a[b * N + j] += noiseScale * noise.normal() } }
            for j in 0..<N { r[b * N + j] = phi(a[b * N + j]) }
            let out = p.wOut.times(Array(r[(b * N)..<((b + 1) * N)]))
            for k in 0..<O { y[b * O + k] = out[k] + p.bOut[k] }
        }
        return y
    }
}
