import CKernels

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
/// its postsynaptic factor times its presynaptic trace; after the forward sweep, one pass over all
/// steps and trials performs those sums for every synapse at once, as products over chunks of
/// 128 of the T·B rows (the algebra is the same as accumulating step by step; `sweep`). With F = W_outᵀ this equals BPTT with the recurrent path
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
        return LossAndGradient(loss: loss, gradients: sweep(model, batch, tr, g).gradients)
    }

    /// F as O×N rows, the operand of G_t·Fᵀ: W_out itself, or Bᵀ.
    func feedbackRows(_ model: RNN) -> Matrix {
        switch feedback {
        case .symmetric: return model.parameters.wOut
        case let .fixed(b):
            precondition(b.rows == model.units && b.cols == model.outputs,
                         "feedback matrix is \(b.rows)×\(b.cols), expected \(model.units)×\(model.outputs)")
            return b.transposed
        }
    }

    /// The rule's gradient from the trajectory and G, in one pass over the T·B rows (row
    /// q = (t − 1)·B + b is step t of trial b): for t = 1…T,
    ///
    ///     l_t = (G_t·Fᵀ) ⊙ φ'(a_t),   r̄_t = (1 − α)·r̄_{t−1} + α·r_{t−1}
    ///     ∂W_rec += l_tᵀ·r̄_t,   ∂W_in += l_tᵀ·x̄_t,   ∂b_rec += b̄_t·Σ_b l_t,   ∂h0 += h̄_t·Σ_b l_t
    ///     ∂W_out += G_tᵀ·r_t,   ∂b_out += Σ_b G_t                                   (exact)
    ///
    /// The units are split between threads: each thread owns its units' rows of ∂W_rec (and
    /// columns of the rest) and runs all rows in chunks of 128, computing l for its units and r̄ for
    /// every unit of the chunk, then adding the chunk's products while both are in its cache, so
    /// that neither T·B×N block goes through memory. Every sum runs the rows in order — W_rec's in
    /// the product's blocks of 128 (`biornn_transposed_product`), the others one row at a time
    /// (`biornn_narrow_products`, b̄_t and h̄_t two columns beside x̄_t) — so the bits are those of
    /// one product over all rows, whatever the split; G_t·Fᵀ sums its O terms in order
    /// (`biornn_wide_rows`). With `keepingSignals` it also returns l (T·B×N, for ModProp).
    func sweep(_ model: RNN, _ batch: Batch, _ tr: Trajectory, _ g: [Double],
               keepingSignals: Bool = false) -> (gradients: Parameters, signals: [Double]) {
        let (T, B, N, I, O) = (batch.steps, batch.trials, model.units, model.inputs, model.outputs)
        let (alpha, phi, f) = (model.alpha, model.activation, feedbackRows(model))
        var grad = Parameters(zerosLike: model.parameters)
        var signals = [Double](repeating: 0, count: keepingSignals ? T * B * N : 0)
        let rows = T * B
        guard rows > 0, N > 0 else { return (grad, signals) }
        // [x̄_t | b̄_t | h̄_t] per row (T·B×(I + 2)): the presynaptic traces of W_in, b_rec and h0.
        let P = I + 2
        var pre = [Double](repeating: 0, count: rows * P)
        let xBar = presynapticTraces(of: batch.inputs, steps: T, block: B * I, alpha: alpha)
        var biasTrace = 0.0, initialTrace = 1.0
        for t in 1...T {
            biasTrace = (1 - alpha) * biasTrace + alpha
            initialTrace *= 1 - alpha
            for q in ((t - 1) * B)..<(t * B) {
                for i in 0..<I { pre[q * P + i] = xBar[q * I + i] }
                (pre[q * P + I], pre[q * P + I + 1]) = (biasTrace, initialTrace)
            }
        }
        var wRec = [Double](repeating: 0, count: N * N)
        var sums = [Double](repeating: 0, count: P * N), readout = [Double](repeating: 0, count: O * N)
        let chunk = Int(BIORNN_TRANSPOSED_BLOCK_ROWS)
        wRec.withUnsafeMutableBufferPointer { wp in
        sums.withUnsafeMutableBufferPointer { sp in
        readout.withUnsafeMutableBufferPointer { op in
        signals.withUnsafeMutableBufferPointer { kp in
        tr.a.withUnsafeBufferPointer { ap in
        tr.r.withUnsafeBufferPointer { rp in
        g.withUnsafeBufferPointer { gp in
        f.storage.withUnsafeBufferPointer { fp in
        pre.withUnsafeBufferPointer { prep in
            let (wRec, sums, readout, kept) = (wp.baseAddress!, sp.baseAddress!, op.baseAddress, keepingSignals ? kp.baseAddress : nil)
            let (a, r, g, f, pre) = (ap.baseAddress!, rp.baseAddress!, gp.baseAddress, fp.baseAddress, prep.baseAddress!)
            ThreadSplit.run(N, work: Double(rows) * Double(N) * Double(N + 2 * O + P)) { units in
                let (j0, width) = (units.lowerBound, units.count)
                // l of this chunk for the thread's units (ld = width), and r̄ of the B rows before
                // the chunk followed by the chunk's rows, for every unit (ld = N).
                let l = UnsafeMutablePointer<Double>.allocate(capacity: chunk * width)
                let trace = UnsafeMutablePointer<Double>.allocate(capacity: (B + chunk) * N)
                defer { l.deallocate(); trace.deallocate() }
                for q0 in stride(from: 0, to: rows, by: chunk) {
                    let count = min(chunk, rows - q0), rBar = trace + B * N
                    if q0 > 0 { trace.update(from: trace + chunk * N, count: B * N) }   // the last B rows of the chunk before
                    // r̄ for rows q (from r_{t−1}, row q of tr.r): α·r_0 in the first B rows, then the
                    // leak from row q − B, at most B rows per call, so that no call reads rows it writes.
                    var q = q0
                    while q < q0 + count {
                        let run = min(q < B ? B - q : B, q0 + count - q), out = rBar + (q - q0) * N
                        biornn_leaky_step(q < B ? nil : out - B * N, r + q * N, run, 0, N, N, alpha, out)
                        q += run
                    }
                    // l_t = (G_t·Fᵀ) ⊙ φ'(a_t); a_t, r_t are row q + B of the trajectory.
                    biornn_wide_rows(count, O, 0, width, g.map { $0 + q0 * O }, f.map { $0 + j0 }, N, l, width)
                    for q in 0..<count {
                        let state = (q0 + q + B) * N + j0
                        phi.multiplyByDerivative(l + q * width, at: a + state, output: r + state, count: width)
                        kept?.advanced(by: (q0 + q) * N + j0).update(from: l + q * width, count: width)
                    }
                    Matrix.addTransposedProduct(l, lda: width, rBar, ldb: N, m: N, rows: count, alpha: 1,
                                                into: wRec + j0 * N, ldc: N, rowsOfC: 0..<width)
                    biornn_narrow_products(pre + q0 * P, P, l, width, count, 0, width, sums + j0, N, nil)
                    biornn_narrow_products(g.map { $0 + q0 * O }, O, r + (q0 + B) * N, N, count, j0, j0 + width, readout, N, nil)
                }
            }
        }}}}}}}}}
        grad.wRec = Matrix(rows: N, cols: N, storage: wRec)
        grad.wIn = Matrix(rows: I, cols: N, storage: Array(sums[0..<(I * N)])).transposed
        grad.bRec = Array(sums[(I * N)..<((I + 1) * N)])
        grad.h0 = Array(sums[((I + 1) * N)...])
        grad.wOut = Matrix(rows: O, cols: N, storage: readout)
        grad.bOut = columnSums(g, rows: rows, cols: O)
        return (grad, signals)
    }
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

extension EProp {
    /// Random-feedback e-prop given B = W_outᵀ takes its fixed-feedback path to symmetric e-prop's numbers.
    public var reductions: [Reduction] {
        guard case .fixed = feedback else { return [] }
        return [Reduction("B = W_outᵀ", equals: "symmetric e-prop") { [noiseSeed] model, _ in
            .init(rule: EProp(feedback: .fixed(model.parameters.wOut.transposed), noiseSeed: noiseSeed), model: model,
                  reference: EProp(noiseSeed: noiseSeed))
        }]
    }
}

/// What online e-prop carries from step to step: the network's state and, per trial, the
/// presynaptic traces r̄ (B×N) and x̄ (B×I); b̄ and h̄ are the same in every trial.
public struct EPropOnlineState: Sendable {
    public internal(set) var forward: OnlineForward
    var rBar: [Double], xBar: [Double]
    var bBar = 0.0, hBar = 1.0

    /// The traces of trial b side by side, [r̄ | x̄ | b̄ | h̄] (ModProp's presynaptic quantities).
    func presynaptic(trial b: Int, units n: Int, inputs i: Int) -> [Double] {
        Array(rBar[(b * n)..<((b + 1) * n)]) + Array(xBar[(b * i)..<((b + 1) * i)]) + [bBar, hBar]
    }
}

extension EProp: OnlineLearningRule {
    public func initialState(_ model: RNN, trials: Int) -> EPropOnlineState {
        EPropOnlineState(forward: OnlineForward(model, trials: trials, noiseSeed: noiseSeed),
                         rBar: [Double](repeating: 0, count: trials * model.units), xBar: [Double](repeating: 0, count: trials * model.inputs))
    }

    public func step(_ state: inout EPropOnlineState, _ model: RNN, _ batch: Batch) -> LossAndGradient {
        onlineStep(&state, model, batch).increment
    }

    /// Step t of the rule as written in the type's comment: the traces advance with r_{t−1}, x_t,
    /// and every synapse adds l_t·(its trace). Also returns l_t (B×N) for ModProp's modulators.
    func onlineStep(_ state: inout EPropOnlineState, _ model: RNN, _ batch: Batch) -> (increment: LossAndGradient, signal: [Double]) {
        let (B, N, I, O) = (batch.trials, model.units, model.inputs, model.outputs)
        let alpha = model.alpha, t = state.forward.step + 1
        let previous = state.forward.r
        let y = state.forward.advance(model, batch)
        let (loss, g) = stepLossAndOutputGradient(outputs: y, batch, step: t)
        for idx in state.rBar.indices { state.rBar[idx] = (1 - alpha) * state.rBar[idx] + alpha * previous[idx] }
        let x = batch.inputs[((t - 1) * B * I)..<(t * B * I)]
        for (idx, value) in zip(state.xBar.indices, x) { state.xBar[idx] = (1 - alpha) * state.xBar[idx] + alpha * value }
        state.bBar = (1 - alpha) * state.bBar + alpha
        state.hBar *= 1 - alpha
        // l_t = (F·G_t) ⊙ φ'(a_t)
        var l = [Double](repeating: 0, count: B * N)
        for b in 0..<B {
            for j in 0..<N {
                var s = 0.0
                for k in 0..<O {
                    switch feedback {
                    case .symmetric: s += model.parameters.wOut[k, j] * g[b * O + k]
                    case let .fixed(f): s += f[j, k] * g[b * O + k]
                    }
                }
                l[b * N + j] = s * model.activation.derivative(state.forward.a[b * N + j])
            }
        }
        var increment = Parameters(zerosLike: model.parameters)
        increment.wRec = eligibilityProducts(post: l, pre: state.rBar, rows: B)
        if I > 0 { increment.wIn = eligibilityProducts(post: l, pre: state.xBar, rows: B) }
        let summed = columnSums(l, rows: B, cols: N)
        increment.bRec = summed.map { state.bBar * $0 }
        increment.h0 = summed.map { state.hBar * $0 }
        readoutIncrement(&increment, error: g, rates: state.forward.r, trials: B)
        return (LossAndGradient(loss: loss, gradients: increment), l)
    }
}
