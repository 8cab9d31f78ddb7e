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
/// its postsynaptic factor times its presynaptic trace; after the forward sweep, one product over all
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
                            biornn_bias_trace_sums(l, T, B, N, alpha, bRec.baseAddress!, h0.baseAddress!)
                        }
                    }
                }
            }
        }
        (grad.bRec, grad.h0) = (bRec, h0)
        // Σ_t l_tᵀ·r̄_t and Σ_t l_tᵀ·x̄_t for every synapse: one product each over the T·B rows.
        grad.wRec = eligibilityProducts(post: l, pre: rBar, rows: T * B)
        if I > 0 {
            l.withUnsafeBufferPointer { lp in
                xBar.withUnsafeBufferPointer { xp in
                    grad.wIn = Matrix.narrowProducts(xp.baseAddress!, m: I, lp.baseAddress!, rows: T * B, n: N, alpha: 1).product.transposed
                }
            }
        }
        return grad
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
