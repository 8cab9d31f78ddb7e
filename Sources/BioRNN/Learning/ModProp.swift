/// ModProp (Liu, Smith, Mihalas, Shea-Brown & Sümbül, 2022): e-prop plus credit carried through
/// the recurrent connections by cell-type-specific modulatory signals. Requires Dale's law (the
/// cell types) and relu.
///
/// The exact influence of a parameter on the state obeys ε_t = J_t·ε_{t−1} + e_t with
/// J_t = (1 − α)I + α·W_rec·diag(φ'(a_{t−1})) (RTRL). e-prop keeps only the leak (1 − α)I.
/// ModProp propagates with the approximation Ĵ = (1 − α)I + α·μ·W̄, where μ is a constant
/// activation derivative and W̄ replaces every weight by the average over its block of
/// (postsynaptic type, presynaptic type). Split ε = leak + mod: the leak part is e-prop's trace
/// (r̄ at synapse (p, q)); because W̄ is constant on type blocks, the modulatory part depends on the
/// receiving neuron only through its type γ, so each synapse keeps one trace per cell type:
///
///     m^γ_pq,t = (1 − α)·m^γ_pq,t−1 + α·μ·( w̄_{γ,c(p)}·r̄_q,t−1 + Σ_β w̄_γβ·n_β·m^β_pq,t−1 )
///     ∂W_pq ≈ Σ_t [ l_p,t·r̄_q,t  +  Σ_γ S_γ,t·m^γ_pq,t ],   S_γ,t = Σ_{j∈γ} l_j,t
///
/// with l_t = (W_outᵀ G_t) ⊙ φ'(a_t) as in e-prop, c(p) the type of p, n_β the size of type β.
/// S_γ,t is one signal per cell type, broadcast to every synapse — the neuromodulator. W_in uses
/// x̄ for r̄, b_rec the bias trace, h0 the trace (1 − α)^t. With `modulation` off, m ≡ 0 and this
/// is e-prop exactly. Cell types: Dale's E and I units, each split into `typesPerSign`
/// contiguous groups (2·typesPerSign types in all).
public struct ModProp: LearningRule {
    public let mu: Double
    public let modulation: Bool
    /// Type of every unit, 0..<types.
    public let cellType: [Int]
    public let noiseSeed: UInt64
    public var name: String { "modprop" }

    public init(model: RNN, mu: Double = 0.5, typesPerSign: Int = 1, modulation: Bool = true, noiseSeed: UInt64 = 0) throws {
        guard model.activation == .relu, let signs = model.daleSigns else {
            throw InputError("rule: modprop requires a Dale network (dale_signs, e.g. --init dale) with relu activation")
        }
        guard typesPerSign >= 1 else { throw InputError("rule: modprop types per sign must be ≥ 1") }
        guard mu.isFinite, mu >= 0 else { throw InputError("rule: modprop μ must be a finite number ≥ 0") }
        var cellType = [Int](repeating: 0, count: model.units)
        for (signIndex, sign) in [1.0, -1.0].enumerated() {
            let members = (0..<model.units).filter { signs[$0] == sign }
            guard members.count >= typesPerSign else { throw InputError("rule: modprop needs at least \(typesPerSign) units of each sign") }
            for (rank, unit) in members.enumerated() { cellType[unit] = signIndex * typesPerSign + rank * typesPerSign / members.count }
        }
        self.init(cellType: cellType, mu: mu, modulation: modulation, noiseSeed: noiseSeed)
    }

    public init(cellType: [Int], mu: Double, modulation: Bool = true, noiseSeed: UInt64 = 0) {
        self.cellType = cellType
        self.mu = mu
        self.modulation = modulation
        self.noiseSeed = noiseSeed
    }

    public func gradient(of model: RNN, on batch: Batch) -> LossAndGradient {
        let eprop = EProp(noiseSeed: noiseSeed)
        let tr = model.run(batch, noiseSeed: noiseSeed)
        let (loss, g) = lossAndOutputGradient(tr, batch)
        let signal = eprop.learningSignals(model, batch, g)
        var grad = eprop.eligibilityGradients(model, batch, tr, postsynaptic: signal)
        if modulation { addModulatoryTerm(&grad, model, batch, tr, signal) }
        readoutGradients(&grad, batch, tr, g)
        return LossAndGradient(loss: loss, gradients: grad)
    }

    /// Σ_t Σ_γ S_γ,t·m^γ_t for every synapse, trial by trial.
    func addModulatoryTerm(_ grad: inout Parameters, _ model: RNN, _ batch: Batch, _ tr: Trajectory, _ signal: [Double]) {
        let (T, B, N, I) = (batch.steps, batch.trials, model.units, model.inputs)
        let alpha = model.alpha, phi = model.activation, w = model.parameters.wRec
        let C = (cellType.max() ?? 0) + 1
        precondition(cellType.count == N, "ModProp cell types are for \(cellType.count) units, the model has \(N)")
        // Type sizes n_β and block averages w̄_γβ.
        var count = [Double](repeating: 0, count: C)
        for p in 0..<N { count[cellType[p]] += 1 }
        var wBar = Matrix(rows: C, cols: C)
        for j in 0..<N { for k in 0..<N { wBar[cellType[j], cellType[k]] += w[j, k] } }
        for γ in 0..<C { for β in 0..<C where count[γ] > 0 && count[β] > 0 { wBar[γ, β] /= count[γ] * count[β] } }
        let gain = alpha * mu
        for b in 0..<B {
            // Per type γ: traces for W_rec (N×N), W_in (N×I), b_rec (N), h0 (N); and e-prop's leak traces.
            var mRec = [Matrix](repeating: Matrix(rows: N, cols: N), count: C)
            var mIn = [Matrix](repeating: Matrix(rows: N, cols: I), count: C)
            var mBias = [[Double]](repeating: Array(repeating: 0, count: N), count: C)
            var mH0 = [[Double]](repeating: Array(repeating: 0, count: N), count: C)
            var rBar = [Double](repeating: 0, count: N), xBar = [Double](repeating: 0, count: I)
            var bBar = 0.0, hBar = 1.0
            for t in 1...T {
                // m^γ_t from m_{t−1} and the leak traces at t−1 (before they advance).
                var nextRec = mRec, nextIn = mIn, nextBias = mBias, nextH0 = mH0
                for γ in 0..<C {
                    let u = (0..<N).map { wBar[γ, cellType[$0]] }   // w̄_{γ,c(p)}
                    for p in 0..<N {
                        for q in 0..<N {
                            var coupled = 0.0
                            for β in 0..<C { coupled += wBar[γ, β] * count[β] * mRec[β][p, q] }
                            nextRec[γ][p, q] = (1 - alpha) * mRec[γ][p, q] + gain * (u[p] * rBar[q] + coupled)
                        }
                        for q in 0..<I {
                            var coupled = 0.0
                            for β in 0..<C { coupled += wBar[γ, β] * count[β] * mIn[β][p, q] }
                            nextIn[γ][p, q] = (1 - alpha) * mIn[γ][p, q] + gain * (u[p] * xBar[q] + coupled)
                        }
                        var coupledBias = 0.0, coupledH0 = 0.0
                        for β in 0..<C { coupledBias += wBar[γ, β] * count[β] * mBias[β][p]; coupledH0 += wBar[γ, β] * count[β] * mH0[β][p] }
                        nextBias[γ][p] = (1 - alpha) * mBias[γ][p] + gain * (u[p] * bBar + coupledBias)
                        nextH0[γ][p] = (1 - alpha) * mH0[γ][p] + gain * (u[p] * hBar + coupledH0)
                    }
                }
                (mRec, mIn, mBias, mH0) = (nextRec, nextIn, nextBias, nextH0)
                // Advance the leak traces to t (e-prop's r̄_t, x̄_t, b̄_t, h̄_t).
                let row = (t - 1) * B + b
                for q in 0..<N { rBar[q] = (1 - alpha) * rBar[q] + alpha * tr.r[row * N + q] }
                for q in 0..<I { xBar[q] = (1 - alpha) * xBar[q] + alpha * batch.inputs[row * I + q] }
                bBar = (1 - alpha) * bBar + alpha
                hBar *= 1 - alpha
                // The modulators S_γ,t = Σ_{j∈γ} l_j,t and their effect on every synapse.
                var s = [Double](repeating: 0, count: C)
                for j in 0..<N { s[cellType[j]] += signal[row * N + j] * phi.derivative(tr.a[(t * B + b) * N + j]) }
                for γ in 0..<C where s[γ] != 0 {
                    for idx in 0..<(N * N) { grad.wRec.storage[idx] += s[γ] * mRec[γ].storage[idx] }
                    for idx in 0..<(N * I) { grad.wIn.storage[idx] += s[γ] * mIn[γ].storage[idx] }
                    for p in 0..<N { grad.bRec[p] += s[γ] * mBias[γ][p]; grad.h0[p] += s[γ] * mH0[γ][p] }
                }
            }
        }
    }
}
