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
/// implementation keeps one trace per synapse, as Murray's rule does. In Murray's rate model φ
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

    public func gradient(of model: RNN, on batch: Batch) -> LossAndGradient {
        let (T, B, N, I, O) = (batch.steps, batch.trials, model.units, model.inputs, model.outputs)
        precondition(feedback.rows == N && feedback.cols == O, "feedback matrix is \(feedback.rows)×\(feedback.cols), expected \(N)×\(O)")
        let alpha = model.alpha, phi = model.activation
        precondition(T >= 1, "a batch has at least one step")
        let tr = model.run(batch, noiseSeed: noiseSeed)
        let (loss, g) = lossAndOutputGradient(tr, batch)
        var grad = Parameters(zerosLike: model.parameters)
        for b in 0..<B {
            var pRec = Matrix(rows: N, cols: N), pIn = Matrix(rows: N, cols: I)
            var pBias = [Double](repeating: 0, count: N), pH0 = [Double](repeating: 1, count: N)
            for t in 1...T {
                let row = (t - 1) * B + b
                for j in 0..<N {
                    for i in 0..<N { pRec[j, i] = (1 - alpha) * pRec[j, i] + alpha * tr.r[((t - 1) * B + b) * N + i] }
                    for i in 0..<I { pIn[j, i] = (1 - alpha) * pIn[j, i] + alpha * batch.inputs[row * I + i] }
                    pBias[j] = (1 - alpha) * pBias[j] + alpha
                    pH0[j] *= 1 - alpha
                }
                let errorAtT = Array(g[(row * O)..<((row + 1) * O)])
                let signal = feedback.times(errorAtT)
                for j in 0..<N {
                    let post = signal[j] * phi.derivative(tr.a[(t * B + b) * N + j])
                    guard post != 0 else { continue }
                    for i in 0..<N { grad.wRec[j, i] += post * pRec[j, i] }
                    for i in 0..<I { grad.wIn[j, i] += post * pIn[j, i] }
                    grad.bRec[j] += post * pBias[j]
                    grad.h0[j] += post * pH0[j]
                }
            }
        }
        readoutGradients(&grad, batch, tr, g)
        return LossAndGradient(loss: loss, gradients: grad)
    }
}

extension RFLO {
    public var exactRelations: Set<ExactRelation> { [.exactReadout] }
    public func permutingUnits(_ permutation: [Int]) -> any LearningRule {
        RFLO(feedback: feedback.permutingRows(permutation), noiseSeed: noiseSeed)
    }
}
