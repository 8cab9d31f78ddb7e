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
///
/// Since m_0 = 0 and both the drive w̄_{γ,c(p)} and the coupling see p only through c(p), every
/// trace is shared by all postsynaptic units of a type: m^γ_pq,t = M^γ_{c(p)q,t}. The
/// implementation keeps M (C×C per presynaptic quantity, C types) instead of m (C per synapse):
/// O(C³(N + I)) per step and trial instead of O(C²N²).
public struct ModProp: LearningRule {
    public let mu: Double
    public let modulation: Bool
    /// Type of every unit, 0..<types.
    public let cellType: [Int]
    public let noiseSeed: UInt64
    public var name: String { mu == 0.5 ? "modprop" : "modprop:\(JSONValue.format(mu))" }
    /// Cell types come from Dale's signs, and the constant derivative μ stands for relu's.
    public static let requirement = NetworkRequirement(daleSigns: true, activation: .relu)

    public init(model: RNN, mu: Double = 0.5, typesPerSign: Int = 1, modulation: Bool = true, noiseSeed: UInt64 = 0) throws {
        try Self.requirement.check(rule: "modprop", units: model.units, activation: model.activation, dale: model.daleSigns != nil)
        let signs = model.daleSigns!
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
        var (grad, l) = eprop.sweep(model, batch, tr, g, keepingSignals: modulation)
        if modulation { addModulatoryTerm(&grad, model, batch, tr, l) }
        return LossAndGradient(loss: loss, gradients: grad)
    }

    /// Σ_t Σ_γ S_γ,t·m^γ_t for every synapse, trial by trial, through the type-shared traces M.
    func addModulatoryTerm(_ grad: inout Parameters, _ model: RNN, _ batch: Batch, _ tr: Trajectory, _ l: [Double]) {
        let (T, B, N, I) = (batch.steps, batch.trials, model.units, model.inputs)
        let alpha = model.alpha
        guard T > 0 else { return }
        let types = CellTypes(cellType, model)
        var total = [Double](repeating: 0, count: types.count * types.quantities)
        for b in 0..<B {
            var traces = ModulatoryTraces(types)
            var pre = [Double](repeating: 0, count: types.quantities)
            pre[types.quantities - 1] = 1                              // h̄_0 = 1, every other trace 0
            for t in 1...T {
                traces.advance(presynaptic: pre, types, alpha: alpha, mu: mu)
                // Advance the leak traces to t (e-prop's r̄_t, x̄_t, b̄_t, h̄_t).
                let row = (t - 1) * B + b
                for q in 0..<N { pre[q] = (1 - alpha) * pre[q] + alpha * tr.r[row * N + q] }
                for q in 0..<I { pre[N + q] = (1 - alpha) * pre[N + q] + alpha * batch.inputs[row * I + q] }
                pre[N + I] = (1 - alpha) * pre[N + I] + alpha
                pre[N + I + 1] *= 1 - alpha
                // l_t of this trial (e-prop's step factor): the learning signal times φ'(a_t).
                traces.accumulate(modulators: types.modulators(Array(l[(row * N)..<((row + 1) * N)])), into: &total)
            }
        }
        types.add(total, to: &grad)
    }
}

/// The cell types of a network and the block averages ModProp propagates with: type sizes n_β,
/// w̄_γβ, and the presynaptic quantities side by side, P = N + I + 2 of them: r̄ (N), x̄ (I), b̄, h̄.
struct CellTypes: Sendable {
    let of: [Int]
    let count: Int
    let sizes: [Double]
    let wBar: Matrix
    let units: Int, inputs: Int
    var quantities: Int { units + inputs + 2 }

    init(_ cellType: [Int], _ model: RNN) {
        precondition(cellType.count == model.units, "ModProp cell types are for \(cellType.count) units, the model has \(model.units)")
        let C = (cellType.max() ?? 0) + 1, w = model.parameters.wRec
        var sizes = [Double](repeating: 0, count: C)
        for p in 0..<model.units { sizes[cellType[p]] += 1 }
        var wBar = Matrix(rows: C, cols: C)
        for j in 0..<model.units { for k in 0..<model.units { wBar[cellType[j], cellType[k]] += w[j, k] } }
        for γ in 0..<C { for β in 0..<C where sizes[γ] > 0 && sizes[β] > 0 { wBar[γ, β] /= sizes[γ] * sizes[β] } }
        (of, count, self.sizes, self.wBar, units, inputs) = (cellType, C, sizes, wBar, model.units, model.inputs)
    }

    /// S_γ = Σ_{j∈γ} l_j: one modulator per cell type.
    func modulators(_ l: [Double]) -> [Double] {
        var s = [Double](repeating: 0, count: count)
        for j in 0..<units { s[of[j]] += l[j] }
        return s
    }

    /// Row c(p) of `total` (C×P) is the modulatory gradient of every synapse onto unit p.
    func add(_ total: [Double], to grad: inout Parameters) {
        let (N, I, P) = (units, inputs, quantities)
        for p in 0..<N {
            let from = of[p] * P
            for q in 0..<N { grad.wRec[p, q] += total[from + q] }
            for q in 0..<I { grad.wIn[p, q] += total[from + N + q] }
            grad.bRec[p] += total[from + N + I]
            grad.h0[p] += total[from + N + I + 1]
        }
    }
}

/// ModProp's type-shared traces M^γ_{δq} of one trial, at index (γ·C + δ)·P + q.
struct ModulatoryTraces: Sendable {
    var m: [Double]
    private var next: [Double]

    init(_ types: CellTypes) {
        m = [Double](repeating: 0, count: types.count * types.count * types.quantities)
        next = m
    }

    /// M^γ_{δq,t} = (1 − α)M^γ_{δq,t−1} + αμ(w̄_γδ·pre_q,t−1 + Σ_β w̄_γβ·n_β·M^β_{δq,t−1})
    mutating func advance(presynaptic pre: [Double], _ types: CellTypes, alpha: Double, mu: Double) {
        let (C, P, gain) = (types.count, types.quantities, alpha * mu)
        for γ in 0..<C {
            for δ in 0..<C {
                let drive = gain * types.wBar[γ, δ], out = (γ * C + δ) * P
                for q in 0..<P { next[out + q] = (1 - alpha) * m[out + q] + drive * pre[q] }
                for β in 0..<C {
                    let coupling = gain * types.wBar[γ, β] * types.sizes[β], from = (β * C + δ) * P
                    for q in 0..<P { next[out + q] += coupling * m[from + q] }
                }
            }
        }
        swap(&m, &next)
    }

    /// total[δ·P + q] += Σ_γ S_γ·M^γ_{δq}
    func accumulate(modulators s: [Double], into total: inout [Double]) {
        let C = s.count, P = m.count / (C * C)
        for γ in 0..<C where s[γ] != 0 {
            for δ in 0..<C {
                let from = (γ * C + δ) * P
                for q in 0..<P { total[δ * P + q] += s[γ] * m[from + q] }
            }
        }
    }
}

/// What online ModProp carries: e-prop's state, the cell types with their block averages w̄ (fixed
/// for the sweep: the weights do not change within it), and one set of modulatory traces per trial.
public struct ModPropOnlineState: Sendable {
    var eprop: EPropOnlineState
    let types: CellTypes
    var traces: [ModulatoryTraces]
}

extension ModProp: OnlineLearningRule {
    public func initialState(_ model: RNN, trials: Int) -> ModPropOnlineState {
        let types = CellTypes(cellType, model)
        return ModPropOnlineState(eprop: EProp(noiseSeed: noiseSeed).initialState(model, trials: trials), types: types,
                                  traces: Array(repeating: ModulatoryTraces(types), count: trials))
    }

    /// Step t: the modulatory traces advance with the presynaptic traces of t − 1, then e-prop's
    /// step, then every synapse adds Σ_γ S_γ,t·m^γ_t.
    public func step(_ state: inout ModPropOnlineState, _ model: RNN, _ batch: Batch) -> LossAndGradient {
        let types = state.types
        let (B, N, I) = (batch.trials, model.units, model.inputs)
        if modulation {
            for b in 0..<B {
                state.traces[b].advance(presynaptic: state.eprop.presynaptic(trial: b, units: N, inputs: I), types, alpha: model.alpha, mu: mu)
            }
        }
        var (increment, l) = EProp(noiseSeed: noiseSeed).onlineStep(&state.eprop, model, batch)
        guard modulation else { return increment }
        var total = [Double](repeating: 0, count: types.count * types.quantities)
        for b in 0..<B {
            state.traces[b].accumulate(modulators: types.modulators(Array(l[(b * N)..<((b + 1) * N)])), into: &total)
        }
        types.add(total, to: &increment.gradients)
        return increment
    }
}

extension ModProp {
    public var exactRelations: Set<ExactRelation> { [.equalsBPTTWithoutRecurrence, .exactReadout] }
    public func permutingUnits(_ permutation: [Int]) -> any LearningRule {
        var types = cellType
        for p in 0..<cellType.count { types[permutation[p]] = cellType[p] }
        return ModProp(cellType: types, mu: mu, modulation: modulation, noiseSeed: noiseSeed)
    }
}

extension ModProp {
    /// With the modulatory traces off, ModProp is symmetric e-prop.
    public var reductions: [Reduction] {
        [Reduction("the modulation off", equals: "symmetric e-prop") { [self] model, _ in
            .init(rule: ModProp(cellType: cellType, mu: mu, modulation: false, noiseSeed: noiseSeed), model: model,
                  reference: EProp(noiseSeed: noiseSeed))
        }]
    }
}
