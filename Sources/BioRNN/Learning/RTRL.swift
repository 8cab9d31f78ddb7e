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

    /// Forward in time by nature: the gradient is the sum of the step increments.
    public func gradient(of model: RNN, on batch: Batch) -> LossAndGradient {
        precondition(model.units <= Self.maxUnits, "RTRL is limited to \(Self.maxUnits) units")
        precondition(batch.steps >= 1, "a batch has at least one step")
        return onlineGradient(of: model, on: batch)
    }
}

/// What RTRL carries: the network's state and the influence matrix M_t (N×P) of every trial.
public struct RTRLOnlineState: Sendable {
    public internal(set) var forward: OnlineForward
    var influence: [Matrix]
}

extension RTRL: OnlineLearningRule {
    /// M_0 = [0 | I_h0]. Column layout of θ: W_rec (N·N, row-major), W_in (N·I), b_rec (N), h0 (N).
    public func initialState(_ model: RNN, trials: Int) -> RTRLOnlineState {
        let (N, I) = (model.units, model.inputs)
        var m = Matrix(rows: N, cols: N * N + N * I + 2 * N)
        for j in 0..<N { m[j, N * N + N * I + N + j] = 1 }
        return RTRLOnlineState(forward: OnlineForward(model, trials: trials, noiseSeed: noiseSeed), influence: Array(repeating: m, count: trials))
    }

    /// Step t: M_t = J_t·M_{t−1} + E_t, and the increment l_tᵀ·M_t.
    public func step(_ state: inout RTRLOnlineState, _ model: RNN, _ batch: Batch) -> LossAndGradient {
        let (B, N, I, O) = (batch.trials, model.units, model.inputs, model.outputs)
        let alpha = model.alpha, phi = model.activation, w = model.parameters.wRec, t = state.forward.step + 1
        let (offIn, offB, offH) = (N * N, N * N + N * I, N * N + N * I + N)
        let P = offH + N
        let (previousA, previousR) = (state.forward.a, state.forward.r)
        let y = state.forward.advance(model, batch)
        let (loss, g) = stepLossAndOutputGradient(outputs: y, batch, step: t)
        var total = [Double](repeating: 0, count: P)
        var jacobian = Matrix(rows: N, cols: N)
        for b in 0..<B {
            let row = (t - 1) * B + b
            // J_t = (1 − α)I + α·W_rec·diag(φ'(a_{t−1}))
            for j in 0..<N {
                for k in 0..<N { jacobian[j, k] = alpha * w[j, k] * phi.derivative(previousA[b * N + k]) }
                jacobian[j, j] += 1 - alpha
            }
            var m = jacobian * state.influence[b]
            for j in 0..<N {
                for i in 0..<N { m[j, j * N + i] += alpha * previousR[b * N + i] }
                for i in 0..<I { m[j, offIn + j * I + i] += alpha * batch.inputs[row * I + i] }
                m[j, offB + j] += alpha
            }
            state.influence[b] = m
            let signal = model.parameters.wOut.times(Array(g[(b * O)..<((b + 1) * O)]), .transposed)
            let l = (0..<N).map { signal[$0] * phi.derivative(state.forward.a[b * N + $0]) }
            let contribution = m.times(l, .transposed)   // Mᵀ·l
            for p in 0..<P { total[p] += contribution[p] }
        }
        var grad = Parameters(zerosLike: model.parameters)
        grad.wRec.storage = Array(total[0..<offIn])
        grad.wIn.storage = Array(total[offIn..<offB])
        grad.bRec = Array(total[offB..<offH])
        grad.h0 = Array(total[offH..<P])
        readoutIncrement(&grad, error: g, rates: state.forward.r, trials: B)
        return LossAndGradient(loss: loss, gradients: grad)
    }
}

extension RTRL {
    public var exactRelations: Set<ExactRelation> { [.equalsBPTT, .exactReadout] }
}
