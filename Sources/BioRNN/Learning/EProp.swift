/// e-prop (Bellec et al., Nat. Commun. 2020) for the leaky rate RNN (<doc:LearningRules>), computed online,
/// forward in time, from quantities each synapse or neuron has at time t:
///
///     presynaptic traces   r̄_t = (1 − α)·r̄_{t−1} + α·r_{t−1}      (W_rec; r̄_0 = 0)
///                          x̄_t = (1 − α)·x̄_{t−1} + α·x_t          (W_in)
///                          b̄_t = (1 − α)·b̄_{t−1} + α              (b_rec)
///                          h̄_t = (1 − α)^t                         (h0)
///     learning signal      L_t = F·G_t,  G_t = ∂E/∂y_t,  F = W_outᵀ (symmetric) or a fixed random B (N×O)
///     eligibility          e_ji,t = φ'(a_j,t)·r̄_i,t
///     update               ∂W_ji ≈ Σ_t L_j,t·e_ji,t = Σ_t (L_t ⊙ φ'(a_t))_j·r̄_i,t
///
/// The readout gradient is exact (Σ_t G_tᵀ r_t). Each synapse's estimate is a sum over time of
/// its postsynaptic factor times its presynaptic trace; after the forward sweep, one GEMM over all
/// steps and trials performs those sums for every synapse at once (the algebra is the same as
/// accumulating step by step). With F = W_outᵀ this equals BPTT with the recurrent path
/// W_rec·φ(a_{t−1}) cut (leak kept) — the "stop-gradient BPTT" of the tests — and it equals exact
/// BPTT when W_rec = 0.
public struct EProp: LearningRule {
    public enum Feedback: Sendable, Equatable {
        case symmetric
        /// B, N×O
        case fixed(Matrix)
    }

    public let feedback: Feedback
    public let noiseSeed: UInt64
    public let name: String

    public init(feedback: Feedback = .symmetric, noiseSeed: UInt64 = 0, name: String? = nil) {
        self.feedback = feedback
        self.noiseSeed = noiseSeed
        self.name = name ?? (feedback == .symmetric ? "eprop" : "eprop-random")
    }

    /// B ~ N(0, 1/N) entries, the distribution of W_outᵀ at initialisation, from
    /// `RandomStream(seed: seed, purpose: .feedback)`.
    public static func randomFeedback(units n: Int, outputs o: Int, seed: UInt64) -> Matrix {
        var rng = RandomStream(seed: seed, purpose: .feedback)
        return .randomNormal(rows: n, cols: o, sd: 1 / Double(n).squareRoot(), using: &rng)
    }

    public func gradient(of model: RNN, on batch: Batch) -> LossAndGradient {
        let tr = model.run(batch, noiseSeed: noiseSeed)
        let (loss, g) = lossAndOutputGradient(tr, batch)
        let signal = learningSignals(model, batch, g)
        var grad = eligibilityGradients(model, batch, tr, postsynaptic: signal)
        readoutGradients(&grad, batch, tr, g)
        return LossAndGradient(loss: loss, gradients: grad)
    }

    /// l_t = (F·G_t) ⊙ φ'(a_t) for every step, T·B×N time-major: the postsynaptic factors.
    func learningSignals(_ model: RNN, _ batch: Batch, _ g: [Double]) -> [Double] {
        let (T, B, N, O) = (batch.steps, batch.trials, model.units, model.outputs)
        let gm = Matrix(rows: T * B, cols: O, storage: g)
        var l: Matrix
        switch feedback {
        case .symmetric: l = gm * model.parameters.wOut                         // G·W_out = (W_outᵀ G)ᵀ
        case let .fixed(b):
            precondition(b.rows == N && b.cols == O, "feedback matrix is \(b.rows)×\(b.cols), expected \(N)×\(O)")
            l = Matrix.product(.none, gm, .transposed, b)                       // G·Bᵀ
        }
        return l.storage
    }

    /// e-prop weight estimates from postsynaptic signals L_t (T·B×N) and the presynaptic traces.
    func eligibilityGradients(_ model: RNN, _ batch: Batch, _ tr: Trajectory, postsynaptic signal: consuming [Double]) -> Parameters {
        let (T, B, N, I) = (batch.steps, batch.trials, model.units, model.inputs)
        let alpha = model.alpha
        var grad = Parameters(zerosLike: model.parameters)
        guard T > 0 else { return grad }
        var l = signal                                              // becomes L_t ⊙ φ'(a_t)
        let rBar = tr.r.withUnsafeBufferPointer { leakyTrace(of: $0, steps: T, block: B * N, alpha: alpha) }   // r̄_t from r_{t−1}
        let xBar = batch.inputs.withUnsafeBufferPointer { leakyTrace(of: $0, steps: T, block: B * I, alpha: alpha) }   // x̄_t from x_t
        var bRec = [Double](repeating: 0, count: N), h0 = [Double](repeating: 0, count: N)
        l.withUnsafeMutableBufferPointer { lp in
            tr.a.withUnsafeBufferPointer { ap in
                tr.r.withUnsafeBufferPointer { rp in
                    let (l, a, r) = (lp.baseAddress!, ap.baseAddress!, rp.baseAddress!)
                    model.activation.multiplyByDerivative(l, at: a + B * N, output: r + B * N, count: T * B * N)
                    // b̄_t and h̄_t are the same for every synapse: Σ_t b̄_t·Σ_b l_t and Σ_t h̄_t·Σ_b l_t.
                    bRec.withUnsafeMutableBufferPointer { bRec in
                        h0.withUnsafeMutableBufferPointer { h0 in
                            var bBar = 0.0, hBar = 1.0
                            for t in 1...T {
                                bBar = (1 - alpha) * bBar + alpha
                                hBar *= 1 - alpha
                                for b in 0..<B {
                                    let row = l + ((t - 1) * B + b) * N
                                    for j in 0..<N {
                                        bRec[j] += bBar * row[j]
                                        h0[j] += hBar * row[j]
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        (grad.bRec, grad.h0) = (bRec, h0)
        // Σ_t l_tᵀ·r̄_t and Σ_t l_tᵀ·x̄_t for every synapse: one GEMM each over the T·B rows.
        grad.wRec = Matrix.product(.transposed, Matrix(rows: T * B, cols: N, storage: l), .none, Matrix(rows: T * B, cols: N, storage: rBar))
        if I > 0 {
            l.withUnsafeBufferPointer { lp in
                xBar.withUnsafeBufferPointer { xp in
                    grad.wIn = Matrix.transposedNarrowProduct(lp.baseAddress!, xp.baseAddress!, rows: T * B, n: N, m: I, alpha: 1)
                }
            }
        }
        return grad
    }
}

/// The presynaptic traces of a time-major sequence of `steps` blocks of `block` values:
///     out_1 = α·in_1,   out_t = (1 − α)·out_{t−1} + α·in_t
/// (r̄_t from r_{t−1}, whose first block is r_0, and x̄_t from x_t).
func leakyTrace(of input: UnsafeBufferPointer<Double>, steps: Int, block: Int, alpha: Double) -> [Double] {
    var out = [Double](uninitializedCount: steps * block)
    out.withUnsafeMutableBufferPointer { op in
        guard steps > 0, block > 0, let o = op.baseAddress else { return }
        for idx in 0..<block { o[idx] = alpha * input[idx] }
        for idx in block..<(steps * block) { o[idx] = (1 - alpha) * o[idx - block] + alpha * input[idx] }
    }
    return out
}

/// The exact readout gradient every rule shares: ∂W_out = Σ_t G_tᵀ r_t, ∂b_out = Σ_t Σ_b G_t.
func readoutGradients(_ grad: inout Parameters, _ batch: Batch, _ tr: Trajectory, _ g: [Double]) {
    let (T, B, N, O) = (batch.steps, batch.trials, tr.units, tr.outputs)
    guard T > 0 else { return }
    g.withUnsafeBufferPointer { gp in
        tr.r.withUnsafeBufferPointer { rp in
            grad.wOut.storage.withUnsafeMutableBufferPointer { w in
                BLAS.gemm(.transposed, .none, m: O, n: N, k: T * B, alpha: 1, a: gp.baseAddress!, lda: O,
                          b: rp.baseAddress! + B * N, ldb: N, beta: 0, c: w.baseAddress!, ldc: N)
            }
        }
    }
    grad.bOut = columnSums(g, rows: T * B, cols: O)
}

extension EProp {
    public var exactRelations: Set<ExactRelation> {
        feedback == .symmetric ? [.equalsStopGradientBPTT, .equalsBPTTWithoutRecurrence, .exactReadout] : [.exactReadout]
    }

    public func permutingUnits(_ permutation: [Int]) -> any LearningRule {
        guard case let .fixed(b) = feedback else { return self }
        return EProp(feedback: .fixed(b.permutingRows(permutation)), noiseSeed: noiseSeed, name: name)
    }
}
