import BioRNN

/// Feedback alignment through time: BPTT's backward pass, with the output error sent into the
/// network through a fixed random B (N×O) instead of W_outᵀ:
///
///     δ_t = (1 − α)·δ_{t+1} + (B·G_t + c·α·W_recᵀ·δ_{t+1}) ⊙ φ'(a_t),   δ_{T+1} = 0
///
/// c = 1 is the rule (any other c is a bug in its recurrent credit). With B = W_outᵀ it is BPTT.
public struct FeedbackAlignmentThroughTime: LearningRule {
    public let feedback: Matrix
    public let recurrentCredit: Double
    public init(feedback: Matrix, recurrentCredit: Double = 1) {
        (self.feedback, self.recurrentCredit) = (feedback, recurrentCredit)
    }
    public var name: String { "fatt" }
    public var exactRelations: Set<ExactRelation> { [.exactReadout] }
    public var reductions: [Reduction] {
        [Reduction("B = W_outᵀ", equals: "BPTT") { [recurrentCredit] model, _ in
            .init(rule: Self(feedback: model.parameters.wOut.transposed, recurrentCredit: recurrentCredit),
                  model: model, reference: BPTT())
        }]
    }
    public func permutingUnits(_ order: [Int]) -> any LearningRule {
        Self(feedback: feedback.permutingRows(order), recurrentCredit: recurrentCredit)
    }

    public func gradient(of model: RNN, on batch: Batch) -> LossAndGradient {
        let (T, B, N, O) = (batch.steps, batch.trials, model.units, model.outputs)
        let p = model.parameters, alpha = model.alpha, phi = model.activation
        let tr = model.run(batch)                                  // a_t, r_t: (T+1)·B×N
        let (loss, g) = lossAndOutputGradient(tr, batch)           // G_t: T·B×O
        let drive = Matrix.product(.none, Matrix(rows: T * B, cols: O, storage: g), .transposed, feedback).storage
        var delta = [Double](repeating: 0, count: (T + 1) * B * N) // block t − 1: δ_t; block T: δ_{T+1} = 0
        func back(_ block: Int) -> [Double] {                      // W_recᵀ·δ for each trial of a block
            let d = Array(delta[(block * B * N)..<((block + 1) * B * N)])
            return Matrix.product(.none, Matrix(rows: B, cols: N, storage: d), .none, p.wRec).storage
        }
        for t in stride(from: T, through: 1, by: -1) {
            let recurrent = back(t)
            for i in 0..<(B * N) {
                let here = (t - 1) * B * N + i
                delta[here] = (1 - alpha) * delta[t * B * N + i]
                    + (drive[here] + recurrentCredit * alpha * recurrent[i]) * phi.derivative(tr.a[t * B * N + i])
            }
        }
        let deltas = Array(delta[0..<(T * B * N)])
        var grad = Parameters(zerosLike: p)
        grad.wRec = alpha * eligibilityProducts(post: deltas, pre: Array(tr.r[0..<(T * B * N)]), rows: T * B)  // r_{t−1}
        grad.wIn = alpha * eligibilityProducts(post: deltas, pre: batch.inputs, rows: T * B)                   // x_t
        for i in deltas.indices { grad.bRec[i % N] += alpha * deltas[i] }
        let recurrent = back(0)                                    // δ_0 = ∂E/∂h0, summed over trials
        for i in 0..<(B * N) {
            grad.h0[i % N] += (1 - alpha) * delta[i] + recurrentCredit * alpha * recurrent[i] * phi.derivative(tr.a[i])
        }
        readoutGradients(&grad, batch, tr, g)
        return LossAndGradient(loss: loss, gradients: grad)
    }
}
