/// Real-time recurrent learning (Williams & Zipser 1989): the exact gradient, forward in time.
///
/// With θ all recurrent-side parameters (W_rec, W_in, b_rec, h0; P of them) the influence
/// matrix M_t = ∂a_t/∂θ (N×P) obeys
///
///     M_0 = [0 | I_h0],   M_t = J_t·M_{t−1} + E_t,   J_t = (1 − α)I + α·W_rec·diag(φ'(a_{t−1}))
///
/// where E_t is the explicit dependence: row j holds α·r_{i,t−1} at W_rec(j,i), α·x_{i,t} at
/// W_in(j,i) and α at b_rec(j). Then ∂E/∂θ = Σ_t l_tᵀ·M_t with l_t = (W_outᵀ G_t) ⊙ φ'(a_t); the
/// readout gradient is the usual one. Cost O(N·N·P) = O(N⁴) per step and trial, memory O(N·P):
/// a reference for small networks, refused above `maxUnits`.
public struct RTRL: LearningRule {
    /// 32 units: P ≈ 1100, one step costs ≈ 3.5e7 flops per trial.
    public static let maxUnits = 32
    public static let requirement = NetworkRequirement(maxUnits: maxUnits, sizeReason: "its cost grows as N⁴ per step")
    public let noiseSeed: UInt64
    public var name: String { "rtrl" }

    public init(noiseSeed: UInt64 = 0) { self.noiseSeed = noiseSeed }

    public func gradient(of model: RNN, on batch: Batch) -> LossAndGradient {
        let (T, B, N, I, O) = (batch.steps, batch.trials, model.units, model.inputs, model.outputs)
        precondition(N <= Self.maxUnits, "RTRL is limited to \(Self.maxUnits) units")
        let alpha = model.alpha, phi = model.activation, w = model.parameters.wRec
        precondition(T >= 1, "a batch has at least one step")
        let tr = model.run(batch, noiseSeed: noiseSeed)
        let (loss, g) = lossAndOutputGradient(tr, batch)
        // Column layout of θ: W_rec (N·N, row-major), W_in (N·I), b_rec (N), h0 (N).
        let (offIn, offB, offH) = (N * N, N * N + N * I, N * N + N * I + N)
        let P = offH + N
        var total = [Double](repeating: 0, count: P)
        for b in 0..<B {
            var m = Matrix(rows: N, cols: P)
            for j in 0..<N { m[j, offH + j] = 1 }
            var jacobian = Matrix(rows: N, cols: N)
            for t in 1...T {
                let prev = (t - 1) * B + b, row = (t - 1) * B + b
                // J_t = (1 − α)I + α·W_rec·diag(φ'(a_{t−1}))
                for j in 0..<N {
                    for k in 0..<N { jacobian[j, k] = alpha * w[j, k] * phi.derivative(tr.a[prev * N + k]) }
                    jacobian[j, j] += 1 - alpha
                }
                m = jacobian * m
                for j in 0..<N {
                    for i in 0..<N { m[j, j * N + i] += alpha * tr.r[prev * N + i] }
                    for i in 0..<I { m[j, offIn + j * I + i] += alpha * batch.inputs[row * I + i] }
                    m[j, offB + j] += alpha
                }
                let errorAtT = Array(g[(row * O)..<((row + 1) * O)])
                let signal = model.parameters.wOut.times(errorAtT, .transposed)
                let l = (0..<N).map { signal[$0] * phi.derivative(tr.a[(t * B + b) * N + $0]) }
                let contribution = m.times(l, .transposed)   // Mᵀ·l
                for p in 0..<P { total[p] += contribution[p] }
            }
        }
        var grad = Parameters(zerosLike: model.parameters)
        grad.wRec.storage = Array(total[0..<offIn])
        grad.wIn.storage = Array(total[offIn..<offB])
        grad.bRec = Array(total[offB..<offH])
        grad.h0 = Array(total[offH..<P])
        readoutGradients(&grad, batch, tr, g)
        return LossAndGradient(loss: loss, gradients: grad)
    }
}

extension RTRL {
    public var exactRelations: Set<ExactRelation> { [.equalsBPTT, .exactReadout] }
}
