import CKernels

/// The pieces a learning rule is made of, public so that a rule author builds on them
/// (<doc:ValidatingALearningRule>). Every sequence is time-major, one block per step:
///
/// | quantity | layout | entry (t, b, ·) | from |
/// |---|---|---|---|
/// | inputs x_t, t = 1…T | T·B×I | `batch.inputs[((t−1)·B + b)·I + i]` | ``Batch`` |
/// | a_t, r_t, t = 0…T (t = 0: h0) | (T+1)·B×N | `tr.a[(t·B + b)·N + j]` | ``RNN/run(_:noiseSeed:)`` |
/// | outputs y_t, t = 1…T | T·B×O | `tr.y[((t−1)·B + b)·O + k]` | ``RNN/run(_:noiseSeed:)`` |
/// | G_t = ∂E/∂y_t | T·B×O | like y | ``lossAndOutputGradient(_:_:)`` |
///
/// x_t and r_{t−1} drive a_t: the presynaptic factor of W_in at step t is block t − 1 of the
/// inputs (rows (t−1)·B…), that of W_rec is block t − 1 of `tr.r` (r_{t−1}), and the
/// postsynaptic factor at step t reads block t of `tr.a`. Matrices are row-major: W_rec[j, i] is
/// the synapse from unit i onto unit j.

/// Leaky presynaptic traces of a time-major sequence of `steps` blocks of `block` values:
///
///     out_1 = α·in_1,   out_t = (1 − α)·out_{t−1} + α·in_t
///
/// For W_rec pass `tr.r` (its first T blocks are r_0…r_{T−1}, so out_t = r̄_t is built from
/// r_{t−1}); for W_in pass `batch.inputs` (out_t = x̄_t from x_t). The result is `steps`·`block`.
public func presynapticTraces(of input: [Double], steps: Int, block: Int, alpha: Double) -> [Double] {
    precondition(input.count >= steps * block, "the input holds \(input.count) values, fewer than \(steps) blocks of \(block)")
    var out = [Double](uninitializedCount: steps * block)
    input.withUnsafeBufferPointer { xp in
        out.withUnsafeMutableBufferPointer { op in
            guard steps > 0, block > 0, let o = op.baseAddress, let x = xp.baseAddress else { return }
            for t in 0..<steps {   // one block per call, vectorised in C (`biornn_leaky_step`)
                biornn_leaky_step(t > 0 ? o + (t - 1) * block : nil, x + t * block, 1, 0, block, block, alpha, o + t * block)
            }
        }
    }
    return out
}

/// The eligibility products Σ_rows post[row, j]·pre[row, i], an N×M matrix from a rows×N block of
/// postsynaptic factors and a rows×M block of presynaptic ones (one product, `Matrix.transposedProduct`):
/// with rows = T·B it sums a rule's per-step, per-trial outer products l_t r̄_tᵀ over time and
/// trials at once.
public func eligibilityProducts(post: [Double], pre: [Double], rows: Int) -> Matrix {
    precondition(rows > 0 && post.count % rows == 0 && pre.count % rows == 0, "post and pre must both have \(rows) rows")
    let (n, m) = (post.count / rows, pre.count / rows)
    return post.withUnsafeBufferPointer { a in
        pre.withUnsafeBufferPointer { b in
            guard let a = a.baseAddress, let b = b.baseAddress else { return Matrix(rows: n, cols: m) }
            return Matrix.transposedProduct(a, lda: n, n: n, b, ldb: m, m: m, rows: rows, alpha: 1)
        }
    }
}

/// The exact readout gradient every rule shares, written into `grad`:
///
///     ∂W_out = Σ_t G_tᵀ·r_t,   ∂b_out = Σ_t Σ_b G_t
///
/// from the trajectory and G (T·B×O, ``lossAndOutputGradient(_:_:)``).
public func readoutGradients(_ grad: inout Parameters, _ batch: Batch, _ tr: Trajectory, _ g: [Double]) {
    let (T, B, N, O) = (batch.steps, batch.trials, tr.units, tr.outputs)
    guard T > 0 else { return }
    g.withUnsafeBufferPointer { gp in
        tr.r.withUnsafeBufferPointer { rp in
            grad.wOut = Matrix.narrowProducts(gp.baseAddress!, m: O, rp.baseAddress! + B * N, rows: T * B, n: N, alpha: 1).product
        }
    }
    grad.bOut = columnSums(g, rows: T * B, cols: O)
}
