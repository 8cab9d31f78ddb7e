/// Random-feedback local online learning (RFLO; Murray, eLife 2019): RTRL with the recurrent
/// Jacobian term dropped, and the output error fed back through a fixed random matrix B.
///
/// RTRL's influence ∂a_t/∂W obeys M_t = J_t·M_{t−1} + E_t with J_t = (1 − α)I + α·W_rec·D_t.
/// Dropping the recurrent part α·W_rec·D_t leaves, for each synapse (j, i), a trace that lives at
/// that synapse:
///
///     P_ji,t = (1 − α)·P_ji,t−1 + α·r_i,t−1,     ∂W_ji ≈ Σ_t (B·G_t)_j·φ'(a_j,t)·P_ji,t
///
/// (and likewise for W_in with x_t, b_rec with 1, h0 with P_0 = 1 and no drive). This
/// implementation runs online, step by step, and keeps one trace per synapse, as Murray's rule does. In Murray's rate model φ
/// acts on the input current, so φ' sits inside his trace; in this current-based model φ' acts
/// at the postsynaptic neuron, every P_ji,t equals the presynaptic trace r̄_i,t, and RFLO
/// coincides with random-feedback e-prop for the same B (a test pins this).
public struct RFLO: LearningRule {
    /// B, N×O
    public let feedback: Matrix
    public let noiseSeed: UInt64
    public var name: String { "rflo" }

    public init(feedback: Matrix, noiseSeed: UInt64 = 0) {
        self.feedback = feedback
        self.noiseSeed = noiseSeed
    }

    /// The rule is online by nature: its gradient is the sum of its step increments.
    public func gradient(of model: RNN, on batch: Batch) -> LossAndGradient {
        precondition(batch.steps >= 1, "a batch has at least one step")
        return onlineGradient(of: model, on: batch)
    }
}

/// What RFLO carries: the network's state and, per trial, one trace per synapse.
public struct RFLOOnlineState: Sendable {
    public internal(set) var forward: OnlineForward
    var pRec: [Matrix], pIn: [Matrix], pBias: [[Double]], pH0: [[Double]]
}

extension RFLO: OnlineLearningRule {
    public func initialState(_ model: RNN, trials: Int) -> RFLOOnlineState {
        let (N, I) = (model.units, model.inputs)
        return RFLOOnlineState(forward: OnlineForward(model, trials: trials, noiseSeed: noiseSeed),
                               pRec: Array(repeating: Matrix(rows: N, cols: N), count: trials),
                               pIn: Array(repeating: Matrix(rows: N, cols: I), count: trials),
                               pBias: Array(repeating: [Double](repeating: 0, count: N), count: trials),
                               pH0: Array(repeating: [Double](repeating: 1, count: N), count: trials))
    }

    /// Step t: every synapse's trace P_ji advances with its presynaptic input, and the synapse adds
    /// (B·G_t)_j·φ'(a_j,t)·P_ji,t.
    public func step(_ state: inout RFLOOnlineState, _ model: RNN, _ batch: Batch) -> LossAndGradient {
        let (B, N, I, O) = (batch.trials, model.units, model.inputs, model.outputs)
        precondition(feedback.rows == N && feedback.cols == O, "feedback matrix is \(feedback.rows)×\(feedback.cols), expected \(N)×\(O)")
        let alpha = model.alpha, phi = model.activation, t = state.forward.step + 1
        let previous = state.forward.r
        let y = state.forward.advance(model, batch)
        let (loss, g) = stepLossAndOutputGradient(outputs: y, batch, step: t)
        var grad = Parameters(zerosLike: model.parameters)
        for b in 0..<B {
            let row = (t - 1) * B + b
            for j in 0..<N {
                for i in 0..<N { state.pRec[b][j, i] = (1 - alpha) * state.pRec[b][j, i] + alpha * previous[b * N + i] }
                for i in 0..<I { state.pIn[b][j, i] = (1 - alpha) * state.pIn[b][j, i] + alpha * batch.inputs[row * I + i] }
                state.pBias[b][j] = (1 - alpha) * state.pBias[b][j] + alpha
                state.pH0[b][j] *= 1 - alpha
            }
            let signal = feedback.times(Array(g[(b * O)..<((b + 1) * O)]))
            for j in 0..<N {
                let post = signal[j] * phi.derivative(state.forward.a[b * N + j])
                guard post != 0 else { continue }
                for i in 0..<N { grad.wRec[j, i] += post * state.pRec[b][j, i] }
                for i in 0..<I { grad.wIn[j, i] += post * state.pIn[b][j, i] }
                grad.bRec[j] += post * state.pBias[b][j]
                grad.h0[j] += post * state.pH0[b][j]
            }
        }
        readoutIncrement(&grad, error: g, rates: state.forward.r, trials: B)
        return LossAndGradient(loss: loss, gradients: grad)
    }
}

extension RFLO {
    public var exactRelations: Set<ExactRelation> { [.exactReadout] }
    public func permutingUnits(_ permutation: [Int]) -> any LearningRule {
        RFLO(feedback: feedback.permutingRows(permutation), noiseSeed: noiseSeed)
    }
}

extension RFLO {
    /// In this current-based model every per-synapse trace P_ji,t equals the presynaptic trace r̄_i,t,
    /// so RFLO is random-feedback e-prop with the same B.
    public var reductions: [Reduction] {
        [Reduction("the same B", equals: "random-feedback e-prop") { [self] model, _ in
            .init(rule: self, model: model, reference: EProp(feedback: .fixed(feedback), noiseSeed: noiseSeed))
        }]
    }
}
