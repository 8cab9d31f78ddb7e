/// A rule that learns online (<doc:ValidatingALearningRule>): it runs forward in time, carries its
/// own state from step to step, and emits at every step t its increment of the loss and of every
/// parameter's gradient, computed from the data of steps 1…t alone. What makes a rule
/// biologically plausible is that it can run this way, with a state whose size does not grow with
/// the length of the trial; the conformance kit certifies both, and that the increments sum to
/// the rule's `gradient(of:on:)`.
///
/// BPTT cannot be written this way (its credit flows backwards from the end of the trial);
/// e-prop, RFLO, ModProp and RTRL carry traces; truncated BPTT carries a buffer of its last K
/// steps, which grows with K but not with T.
public protocol OnlineLearningRule: LearningRule {
    /// Everything the rule carries from one step to the next (the network's state included).
    associatedtype OnlineState
    /// The state before step 1, for `trials` trials.
    func initialState(_ model: RNN, trials: Int) -> OnlineState
    /// Advances the state through the next step t and returns step t's increments: ΔE_t and
    /// Δθ_t, with Σ_t ΔE_t = E and Σ_t Δθ_t = the rule's gradient. Reads nothing of the batch
    /// beyond step t.
    func step(_ state: inout OnlineState, _ model: RNN, _ batch: Batch) -> LossAndGradient
    /// How many past steps the state keeps verbatim (truncated BPTT: K): it may grow during the
    /// first `bufferedSteps` steps, and never after. 0 (the default) for rules that keep traces only.
    var bufferedSteps: Int { get }
}

extension OnlineLearningRule {
    public var bufferedSteps: Int { 0 }
}

extension OnlineLearningRule {
    /// Σ_t of the increments, in order of t.
    public func onlineGradient(of model: RNN, on batch: Batch) -> LossAndGradient {
        var state = initialState(model, trials: batch.trials)
        var total = LossAndGradient(loss: 0, gradients: Parameters(zerosLike: model.parameters))
        for _ in 0..<batch.steps { total.accumulate(step(&state, model, batch)) }
        return total
    }
}

extension LossAndGradient {
    /// Adds an increment: loss to loss, every gradient tensor to its own.
    public mutating func accumulate(_ increment: LossAndGradient) {
        loss += increment.loss
        for (_, path) in Parameters.tensors {
            let add = increment.gradients[keyPath: path]
            gradients[keyPath: path].withUnsafeMutableBufferPointer { g in
                for idx in g.indices { g[idx] += add[idx] }
            }
        }
    }
}

/// One step's exact readout increment, written into `increment`: ΔW_out = G_tᵀ·r_t, Δb_out = Σ_b G_t,
/// from G_t (B×O) and r_t (B×N).
public func readoutIncrement(_ increment: inout Parameters, error g: [Double], rates r: [Double], trials: Int) {
    let (N, O) = (r.count / trials, g.count / trials)
    for b in 0..<trials {
        for k in 0..<O where g[b * O + k] != 0 {
            increment.bOut[k] += g[b * O + k]
            for j in 0..<N { increment.wOut[k, j] += g[b * O + k] * r[b * N + j] }
        }
    }
}
