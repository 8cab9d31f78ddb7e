/// Truncated backpropagation through time (<doc:LearningRules>): the gradient flowing into a_t
/// through the recurrence is carried back at most K steps. K = 1 keeps only the immediate term;
/// K ≥ T is exact BPTT. Private noise is a fixed realisation (`noiseSeed`).
///
/// It runs online too: the credit of step t's error needs only the last K steps, so the rule
/// carries a buffer of K steps (a_τ, r_{τ−1}, x_τ) whose size grows with K, not with T.
public struct TruncatedBPTT: LearningRule {
    /// K ≥ 1.
    public let truncation: Int
    public let noiseSeed: UInt64

    public init(truncation: Int, noiseSeed: UInt64 = 0) {
        precondition(truncation >= 1, "truncation must be at least 1")
        self.truncation = truncation
        self.noiseSeed = noiseSeed
    }

    public var name: String { "tbptt:\(truncation)" }

    public func gradient(of model: RNN, on batch: Batch) -> LossAndGradient {
        let trajectory = model.run(batch, noiseSeed: noiseSeed)
        let (loss, g) = lossAndOutputGradient(trajectory, batch)
        // No shortcut for K ≥ T: the reduction to BPTT tests this path.
        return LossAndGradient(loss: loss, gradients: truncatedBackward(model, batch, trajectory, g))
    }

    /// Truncated backward pass: for each step s, δ^{(s)} starts from the readout error at s and is
    /// carried back k − 1 further steps (the window t = s−k+1…s); weight gradients collect
    /// α·δ_t^{(s)}ᵀ r_{t−1} on the way. k = 1 keeps only the immediate term, k ≥ T is exact.
    /// Costs k times the exact pass. Only a reference, so it is written for clarity.
    func truncatedBackward(_ model: RNN, _ batch: Batch, _ tr: Trajectory, _ g: [Double]) -> Parameters {
        let k = truncation
        let (T, B, N, O) = (batch.steps, batch.trials, model.units, model.outputs)
        let p = model.parameters, alpha = model.alpha, phi = model.activation
        // Σ over the windows of the per-step deltas: the gradients are linear in δ, so summing the
        // window deltas into one T·B·N array and reusing `parameterGradients` is exact.
        var delta = [Double](repeating: 0, count: T * B * N)
        var h0Delta = [Double](repeating: 0, count: B * N)
        let readout = Matrix.product(.none, Matrix(rows: T * B, cols: O, storage: g), .none, p.wOut)   // G·W_out
        for s in 1...T {
            // δ_s^{(s)} = (G_s W_out) ⊙ φ'(a_s)
            var cur = [Double](repeating: 0, count: B * N)
            for idx in 0..<(B * N) { cur[idx] = readout.storage[(s - 1) * B * N + idx] * phi.derivative(tr.a[s * B * N + idx]) }
            var t = s
            while true {
                for idx in 0..<(B * N) { delta[(t - 1) * B * N + idx] += cur[idx] }
                if t == s - k + 1 || t == 1 { break }
                // δ_{t−1} = (1 − α)·δ_t + (α·δ_t·W_rec) ⊙ φ'(a_{t−1})
                let back = Matrix.product(.none, Matrix(rows: B, cols: N, storage: cur), .none, p.wRec)
                for idx in 0..<(B * N) { cur[idx] = (1 - alpha) * cur[idx] + alpha * back.storage[idx] * phi.derivative(tr.a[(t - 1) * B * N + idx]) }
                t -= 1
            }
            // h0 enters a_1 as a weight enters a_t: its gradient δ_1ᵀ·∂a_1/∂h0 counts whenever the
            // window reaches t = 1 (so K ≥ T is exact for h0 too).
            if t == 1 {
                let back = Matrix.product(.none, Matrix(rows: B, cols: N, storage: cur), .none, p.wRec)
                for idx in 0..<(B * N) { h0Delta[idx] += (1 - alpha) * cur[idx] + alpha * back.storage[idx] * phi.derivative(tr.a[idx]) }
            }
        }
        return parameterGradients(model, batch, tr, g, delta, h0Delta)
    }
}

extension TruncatedBPTT {
    public var exactRelations: Set<ExactRelation> { [.exactReadout] }

    /// Truncation at K ≥ T carries every step's credit back to t = 1: exact BPTT.
    public var reductions: [Reduction] {
        [Reduction("K ≥ T", equals: "BPTT") { [self] model, batch in
            .init(rule: TruncatedBPTT(truncation: max(truncation, batch.steps), noiseSeed: noiseSeed), model: model,
                  reference: BPTT(noiseSeed: noiseSeed))
        }]
    }
}

/// What truncated BPTT carries online: the network's state and a ring buffer of the last K steps'
/// a_τ, r_{τ−1} (B×N each) and x_τ (B×I), slot (τ − 1) mod K. The buffer fills during the first K
/// steps and then stays at K slots.
public struct TruncatedBPTTOnlineState: Sendable {
    public internal(set) var forward: OnlineForward
    var a: [[Double]], previousR: [[Double]], x: [[Double]]
}

extension TruncatedBPTT: OnlineLearningRule {
    public var bufferedSteps: Int { truncation }

    public func initialState(_ model: RNN, trials: Int) -> TruncatedBPTTOnlineState {
        TruncatedBPTTOnlineState(forward: OnlineForward(model, trials: trials, noiseSeed: noiseSeed), a: [], previousR: [], x: [])
    }

    /// Step t: δ_t^{(t)} = (G_t·W_out) ⊙ φ'(a_t) is carried back through the buffer,
    /// δ_{τ−1} = (1 − α)·δ_τ + (α·δ_τ·W_rec) ⊙ φ'(a_{τ−1}), collecting α·δ_τᵀ r_{τ−1}, α·δ_τᵀ x_τ
    /// and α·δ_τ for τ = t…max(1, t − K + 1), and h0's term when the window reaches τ = 1.
    public func step(_ state: inout TruncatedBPTTOnlineState, _ model: RNN, _ batch: Batch) -> LossAndGradient {
        let (B, N, I, O) = (batch.trials, model.units, model.inputs, model.outputs)
        let p = model.parameters, alpha = model.alpha, phi = model.activation, k = truncation
        let t = state.forward.step + 1, slot = { (τ: Int) in (τ - 1) % k }
        if state.a.count < k {   // still filling: slot(t) = t − 1 is the next one
            (state.a, state.previousR, state.x) = (state.a + [[]], state.previousR + [[]], state.x + [[]])
        }
        state.previousR[slot(t)] = state.forward.r
        let y = state.forward.advance(model, batch)
        state.a[slot(t)] = state.forward.a
        state.x[slot(t)] = Array(batch.inputs[((t - 1) * B * I)..<(t * B * I)])
        let (loss, g) = stepLossAndOutputGradient(outputs: y, batch, step: t)
        var delta = [Double](repeating: 0, count: B * N)
        for b in 0..<B {
            for j in 0..<N {
                var s = 0.0
                for o in 0..<O { s += g[b * O + o] * p.wOut[o, j] }
                delta[b * N + j] = s * phi.derivative(state.a[slot(t)][b * N + j])
            }
        }
        var increment = Parameters(zerosLike: p)
        /// (1 − α)·δ + (α·δ·W_rec) ⊙ φ'(a): δ carried one step back, onto pre-activations a.
        func carriedBack(_ delta: [Double], onto a: [Double]) -> [Double] {
            let back = Matrix.product(.none, Matrix(rows: B, cols: N, storage: delta), .none, p.wRec)
            return (0..<(B * N)).map { (1 - alpha) * delta[$0] + alpha * back.storage[$0] * phi.derivative(a[$0]) }
        }
        var τ = t
        while true {
            increment.wRec = increment.wRec + alpha * eligibilityProducts(post: delta, pre: state.previousR[slot(τ)], rows: B)
            if I > 0 { increment.wIn = increment.wIn + alpha * eligibilityProducts(post: delta, pre: state.x[slot(τ)], rows: B) }
            for (j, sum) in columnSums(delta, rows: B, cols: N).enumerated() { increment.bRec[j] += alpha * sum }
            if τ == t - k + 1 || τ == 1 { break }
            delta = carriedBack(delta, onto: state.a[slot(τ - 1)])
            τ -= 1
        }
        if τ == 1 {
            let h0Delta = carriedBack(delta, onto: (0..<B).flatMap { _ in p.h0 })
            increment.h0 = columnSums(h0Delta, rows: B, cols: N)
        }
        readoutIncrement(&increment, error: g, rates: state.forward.r, trials: B)
        return LossAndGradient(loss: loss, gradients: increment)
    }
}
