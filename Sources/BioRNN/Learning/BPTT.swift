/// Exact gradient by backpropagation through time (<doc:LearningRules>).
///
/// With δ_t = ∂E/∂a_t (B×N blocks, δ_{T+1} = 0) and G_t = ∂E/∂y_t, going backwards:
///
///     ∂E/∂r_t = G_t·W_out + α·δ_{t+1}·W_rec
///     δ_t     = (1 − α)·δ_{t+1} + (∂E/∂r_t) ⊙ φ'(a_t)                         t = T…1
///     δ_0     = (1 − α)·δ_1 + (α·δ_1·W_rec) ⊙ φ'(a_0),      ∂E/∂h0 = Σ_b δ_0
///
/// and, stacking the T·B rows of all steps (one product per weight matrix, not one per step):
///
///     ∂E/∂W_rec = α·Σ_t δ_tᵀ r_{t−1},   ∂E/∂W_in = α·Σ_t δ_tᵀ x_t,   ∂E/∂b_rec = α·Σ_t Σ_b δ_t
///     ∂E/∂W_out = Σ_t G_tᵀ r_t,          ∂E/∂b_out = Σ_t Σ_b G_t
///
/// Private noise is a fixed realisation (`noiseSeed`), so it enters only through the states.
/// ``TruncatedBPTT`` carries the credit back at most K steps.
public struct BPTT: LearningRule {
    public let noiseSeed: UInt64

    public init(noiseSeed: UInt64 = 0) {
        self.noiseSeed = noiseSeed
    }

    public var name: String { "bptt" }

    public func gradient(of model: RNN, on batch: Batch) -> LossAndGradient {
        let trajectory = model.run(batch, noiseSeed: noiseSeed)
        let (loss, g) = lossAndOutputGradient(trajectory, batch)
        return LossAndGradient(loss: loss, gradients: backward(model, batch, trajectory, g))
    }

    /// Exact backward pass; δ holds δ_1…δ_T as T·B·N, time-major.
    func backward(_ model: RNN, _ batch: Batch, _ tr: Trajectory, _ g: [Double]) -> Parameters {
        let (T, B, N, O) = (batch.steps, batch.trials, model.units, model.outputs)
        let p = model.parameters, alpha = model.alpha, phi = model.activation
        guard T > 0 else {
            return parameterGradients(model, batch, tr, g, [], [Double](repeating: 0, count: B * N))
        }
        var delta = [Double](uninitializedCount: T * B * N)   // set by the readout GEMM first
        var h0Delta = [Double](uninitializedCount: B * N)
        delta.withUnsafeMutableBufferPointer { dp in
            let d = dp.baseAddress!
            // ∂E/∂r_t for every t through the readout: one GEMM, G·W_out (T·B×O · O×N).
            g.withUnsafeBufferPointer { gp in
                p.wOut.storage.withUnsafeBufferPointer { w in
                    BLAS.gemm(.none, .none, m: T * B, n: N, k: O, alpha: 1, a: gp.baseAddress!, lda: O,
                              b: w.baseAddress!, ldb: N, beta: 0, c: d, ldc: N)
                }
            }
            // The recurrence backwards, trial by trial independent, so the trials are split
            // between threads; δ·W_rec is the product with W_recᵀ, packed once.
            let recurrentTransposed = PackedMatrix(p.wRec, transposed: true)
            tr.a.withUnsafeBufferPointer { ap in
                tr.r.withUnsafeBufferPointer { rp in
                    h0Delta.withUnsafeMutableBufferPointer { hp in
                        let (a, r, h) = (ap.baseAddress!, rp.baseAddress!, hp.baseAddress!)
                        ThreadSplit.run(B, work: Double(T * B) * Double(N * N)) { trials in
                            let offset = trials.lowerBound * N, rows = trials.count, count = rows * N
                            for t in stride(from: T, through: 1, by: -1) {
                                let cur = d + (t - 1) * B * N + offset
                                let next = d + t * B * N + offset   // δ_{t+1}; unused at t = T
                                if t < T {
                                    recurrentTransposed.accumulate(rows: rows, alpha: alpha, next, ldr: N, into: cur, ldc: N)
                                }
                                phi.multiplyByDerivative(cur, at: a + t * B * N + offset, output: r + t * B * N + offset, count: count)
                                if t < T { for idx in 0..<count { cur[idx] += (1 - alpha) * next[idx] } }
                            }
                            // δ_0 for h0.
                            let h = h + offset, first = d + offset
                            h.initialize(repeating: 0, count: count)
                            recurrentTransposed.accumulate(rows: rows, alpha: alpha, first, ldr: N, into: h, ldc: N)
                            phi.multiplyByDerivative(h, at: a + offset, output: r + offset, count: count)
                            for idx in 0..<count { h[idx] += (1 - alpha) * first[idx] }
                        }
                    }
                }
            }
        }
        return parameterGradients(model, batch, tr, g, delta, h0Delta)
    }

}

/// Weight gradients from δ_1…δ_T (T·B·N), δ_0 (B·N) and G (T·B·O), stacked over steps:
/// ∂W_rec = α·Δᵀ·R_{0…T−1}, ∂W_in = α·Δᵀ·X, ∂b_rec = α·Σ rows of Δ, ∂W_out = Gᵀ·R_{1…T},
/// ∂b_out = Σ rows of G, ∂h0 = Σ_b δ_0. Shared by every rule that produces a δ.
func parameterGradients(_ model: RNN, _ batch: Batch, _ tr: Trajectory, _ g: [Double],
                        _ delta: [Double], _ h0Delta: [Double]) -> Parameters {
    let (T, B, N, I) = (batch.steps, batch.trials, model.units, model.inputs)
    let alpha = model.alpha
    var grad = Parameters(zerosWithUnits: N, inputs: I, outputs: model.outputs)
    grad.h0 = columnSums(h0Delta, rows: B, cols: N)
    guard T > 0 else { return grad }
    let rows = T * B
    delta.withUnsafeBufferPointer { dp in
        let d = dp.baseAddress!
        tr.r.withUnsafeBufferPointer { rp in
            grad.wRec = Matrix.transposedProduct(d, lda: N, n: N, rp.baseAddress!, ldb: N, m: N, rows: rows, alpha: alpha)
        }
        batch.inputs.withUnsafeBufferPointer { x in
            let (xTDelta, sums) = Matrix.narrowProducts(x.baseAddress, m: I, d, rows: rows, n: N, alpha: alpha, summingColumns: true)
            (grad.wIn, grad.bRec) = (xTDelta.transposed, sums)
        }
    }
    readoutGradients(&grad, batch, tr, g)
    return grad
}

/// Σ_i m[i, j] for a row-major rows×cols block, row by row (the order every caller relies on).
func columnSums(_ m: [Double], rows: Int, cols: Int) -> [Double] {
    var sums = [Double](repeating: 0, count: cols)
    m.withUnsafeBufferPointer { mp in
        sums.withUnsafeMutableBufferPointer { sp in
            for i in 0..<rows { for j in 0..<cols { sp[j] += mp[i * cols + j] } }
        }
    }
    return sums
}

extension BPTT {
    public var exactRelations: Set<ExactRelation> { [.equalsBPTT, .exactReadout] }
}
