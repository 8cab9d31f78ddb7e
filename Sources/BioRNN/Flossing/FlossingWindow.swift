import Foundation

/// A flossing failure: the tangent space collapsed, so log R_ii and its gradient are undefined.
public struct FlossingError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Which gradient of the flossing loss to follow (<doc:GradientFlossing>).
public enum FlossMode: String, CaseIterable, Sendable {
    /// The exact gradient, backpropagated through the trajectory and every QR factorisation.
    case full
    /// e-prop-style: each step differentiated locally in time, Q_{t−1} held constant, the state's
    /// dependence on the weights carried by eligibility traces (explicit + state terms).
    case local
    /// The explicit term alone (states held constant): the naive baseline.
    case localExplicit = "local-explicit"
}

/// One flossing window, recorded: the trajectory a_0 … a_{T0+Tf} (transient T0, window Tf), the
/// orthonormal bases Q_0 … Q_Tf and the triangular factors R_1 … R_Tf of
///
///     V_t = J_t·Q_{t−1} = Q_t·R_t,   J_t = (1 − α)I + α·W_rec·diag(φ'(a_{T0+t−1})),
///
/// and the exponents λ_i = (1/Tf)·Σ_t log R_t,ii. The flossing loss is
/// L = (1/k)·Σ_i (λ_i − λ_target)², a function of the weights acting in the window, started from
/// a_{T0}: the transient is run with the current weights and then held fixed. It exists only to
/// forget the initial condition; its sensitivity to the weights grows like e^{λ·T0} in chaotic
/// networks and carries no information about the exponents, which do not depend on where on the
/// attractor the window starts.
public struct FlossingWindow {
    public let map: RNNMap
    public let k: Int, transient: Int, window: Int
    /// a_τ, τ = 0…T0+Tf, each N long, flat.
    public let states: [Double]
    /// Q_t (N×k), t = 0…Tf.
    public let bases: [Matrix]
    /// R_t (k×k), t = 1…Tf (index t − 1).
    public let factors: [Matrix]
    public let exponents: [Double]

    public var units: Int { map.dimension }

    public func loss(target: Double) -> Double {
        exponents.reduce(0) { $0 + ($1 - target) * ($1 - target) } / Double(k)
    }

    public func state(_ tau: Int) -> [Double] { Array(states[(tau * units)..<((tau + 1) * units)]) }

    /// Record a window. Seeds: the initial state a_0 = h0 + N(0, 1) from `initialConditionSeed`,
    /// Q_0 from the QR of a Gaussian block from `orthonormalSeed`. `start` replaces both (a_0 and an
    /// orthonormal N×k Q_0), for comparisons with other implementations from the same point.
    public static func record(_ map: RNNMap, k: Int, transient: Int, window: Int,
                              initialConditionSeed: UInt64, orthonormalSeed: UInt64,
                              start: (state: [Double], basis: Matrix)? = nil) throws -> FlossingWindow {
        let n = map.dimension
        try Lyapunov.checkExponentCount(k, units: n)
        guard window >= 1 else { throw InputError("window: must be ≥ 1, got \(window)") }
        guard transient >= 0 else { throw InputError("transient: must be ≥ 0, got \(transient)") }
        var rng = RandomStream(seed: initialConditionSeed, purpose: .initialCondition)
        var a = start?.state ?? map.initialState(using: &rng)
        var states = a
        states.reserveCapacity((transient + window + 1) * n)
        for tau in 0..<transient { map.step(&a, time: tau); states += a }
        var orng = RandomStream(seed: orthonormalSeed, purpose: .orthonormal)
        var q = start?.basis ?? Matrix.randomNormal(rows: n, cols: k, sd: 1, using: &orng).qr.q
        precondition(q.rows == n && q.cols == k, "start basis is \(q.rows)×\(q.cols), expected \(n)×\(k)")
        var bases = [q], factors: [Matrix] = []
        let qr = CholeskyQR2(dimension: n, count: k, layout: .columns)
        var sums = [Double](repeating: 0, count: k)
        for t in 1...window {
            let tau = transient + t
            map.applyJacobian(at: a, time: tau - 1, to: &q)
            var r = Matrix(rows: k, cols: k)
            qr.orthonormalize(&q, r: &r)
            let scale = (0..<k).reduce(0.0) { max($0, r[$1, $1]) }
            for i in 0..<k where !(r[i, i] > 1e-13 * scale) || !r[i, i].isFinite {
                throw FlossingError(message: "flossing: the tangent space collapsed at window step \(t) (R[\(i),\(i)] = \(r[i, i])): the Jacobian is (nearly) singular, e.g. saturated or silent units; use a smaller k")
            }
            for i in 0..<k { sums[i] += log(r[i, i]) }
            bases.append(q)
            factors.append(r)
            map.step(&a, time: tau - 1)
            states += a
        }
        return FlossingWindow(map: map, k: k, transient: transient, window: window, states: states, bases: bases,
                              factors: factors, exponents: sums.map { $0 / Double(window) })
    }

    // MARK: gradients

    /// c_i = ∂L/∂λ_i / Tf = 2(λ_i − λ_target)/(k·Tf): the global factor of each exponent.
    func globalFactors(target: Double) -> [Double] {
        exponents.map { 2 * ($0 - target) / (Double(k) * Double(window)) }
    }

    /// The gradient of the flossing loss for W_rec, W_in and b_rec (other tensors zero).
    public func gradient(mode: FlossMode, target: Double) -> Parameters {
        switch mode {
        case .full: return fullGradient(target: target)
        case .local: return localGradient(target: target, stateTerm: true)
        case .localExplicit: return localGradient(target: target, stateTerm: false)
        }
    }

    /// The adjoint of one thin QR step V = Q·R (m ≥ k, diag R > 0), given Q̄ and a diagonal R̄:
    ///
    ///     M = R·R̄ᵀ − Q̄ᵀ·Q,   V̄ = (Q̄ + Q·copyltu(M))·R⁻ᵀ,   copyltu(M) = tril(M) + tril(M, −1)ᵀ
    ///
    /// (Walter & Lehmann 2018; Liao et al., PRX 2019, eq. for the reduced QR). R is well
    /// conditioned here: `record` refuses windows whose R_ii collapse.
    static func qrAdjoint(q: Matrix, r: Matrix, qBar: Matrix?, rBarDiagonal: [Double]) -> Matrix {
        let (n, k) = (q.rows, q.cols)
        var m = Matrix(rows: k, cols: k)
        for i in 0..<k { for j in 0..<k { m[i, j] = r[i, j] * rBarDiagonal[j] } }   // R·R̄ᵀ, R̄ diagonal
        if let qBar { m = m - Matrix.product(.transposed, qBar, .none, q) }
        var sym = m
        for i in 0..<k { for j in (i + 1)..<max(i + 1, k) { sym[i, j] = m[j, i] } }   // copy lower to upper
        var x = q * sym
        if let qBar { x = x + qBar }
        // V̄ = X·R⁻ᵀ: each row v of V̄ solves R·vᵀ = xᵀ (back substitution).
        var vBar = Matrix(rows: n, cols: k)
        for row in 0..<n {
            for i in stride(from: k - 1, through: 0, by: -1) {
                var s = x[row, i]
                for j in (i + 1)..<max(i + 1, k) { s -= r[i, j] * vBar[row, j] }
                vBar[row, i] = s / r[i, i]
            }
        }
        return vBar
    }

    /// Exact reverse mode through the window and every QR step (the transient held fixed):
    ///
    ///     per window step t (τ = T0 + t), from t = Tf down to 1, with Q̄_Tf = 0 and ā_{T0+Tf} = 0:
    ///       V̄_t = qrAdjoint(Q_t, R_t, Q̄_t, R̄_t),   R̄_t = diag(c_i / R_t,ii)
    ///       Q̄_{t−1} = J_tᵀ V̄_t = (1 − α)V̄_t + α·D·W_recᵀ V̄_t
    ///       W̄_rec += α·V̄_t·(D·Q_{t−1})ᵀ,   ā_{τ−1} += α·φ''(a_{τ−1}) ⊙ rowsum(Q_{t−1} ⊙ W_recᵀV̄_t)
    ///     and for every window step, through a_τ = f(a_{τ−1}, x_{τ−1}):
    ///       W̄_rec += α·ā_τ φ(a_{τ−1})ᵀ,  W̄_in += α·ā_τ x_{τ−1}ᵀ,  b̄_rec += α·ā_τ
    ///       ā_{τ−1} += (1 − α)·ā_τ + α·φ'(a_{τ−1}) ⊙ W_recᵀ ā_τ
    ///
    /// In chaotic networks ā grows like e^{λ·Tf} backwards through the window, so the exact
    /// gradient's direction degrades with long windows: full flossing wants short windows
    /// (Tf ≈ 50 at λ ≈ 0.1 per step), local flossing does not (see the README's measurements).
    func fullGradient(target: Double) -> Parameters {
        let model = map.model, n = units, alpha = model.alpha, phi = model.activation, w = model.parameters.wRec
        let c = globalFactors(target: target)
        var grad = Parameters(zerosLike: model.parameters)
        var aBar = [Double](repeating: 0, count: n)
        var qBar: Matrix? = nil
        for tau in stride(from: transient + window, through: transient + 1, by: -1) {
            let prev = state(tau - 1)
            var aBarPrev = [Double](repeating: 0, count: n)
            if tau > transient {
                let t = tau - transient
                let (q, r, qPrev) = (bases[t], factors[t - 1], bases[t - 1])
                let vBar = Self.qrAdjoint(q: q, r: r, qBar: qBar, rBarDiagonal: (0..<k).map { c[$0] / r[$0, $0] })
                let p = Matrix.product(.transposed, w, .none, vBar)                    // W_recᵀ V̄
                var dq = qPrev
                for j in 0..<n { let d = phi.derivative(prev[j]); for col in 0..<k { dq[j, col] *= d } }
                Matrix.gemm(.none, vBar, .transposed, dq, into: &grad.wRec, alpha: alpha, beta: 1)
                var nextQBar = (1 - alpha) * vBar
                for j in 0..<n {
                    let d = phi.derivative(prev[j]), dd = phi.secondDerivative(prev[j])
                    var s = 0.0
                    for col in 0..<k {
                        nextQBar[j, col] += alpha * d * p[j, col]
                        s += qPrev[j, col] * p[j, col]
                    }
                    aBarPrev[j] += alpha * dd * s
                }
                qBar = nextQBar
            }
            // Through the dynamics a_τ = (1 − α)a_{τ−1} + α(W_rec φ(a_{τ−1}) + W_in x_{τ−1} + b_rec).
            if aBar.contains(where: { $0 != 0 }) {
                let x = map.input(at: tau - 1)
                let back = w.times(aBar, .transposed)
                grad.wRec.addOuterProduct(aBar, prev.map { phi($0) }, alpha: alpha)
                for j in 0..<n {
                    let aj = alpha * aBar[j]
                    for i in 0..<x.count { grad.wIn[j, i] += aj * x[i] }
                    grad.bRec[j] += aj
                    aBarPrev[j] += (1 - alpha) * aBar[j] + alpha * phi.derivative(prev[j]) * back[j]
                }
            }
            aBar = aBarPrev
        }
        return grad
    }

    /// Local flossing: per window step, the same QR adjoint with Q̄ = 0 (the future is ignored),
    /// so V̄_t depends only on step t; then
    ///
    ///     explicit:  W̄_rec,jk += α·V̄_t,j·φ'(a_k,τ−1)·Q_{t−1},k          (summed over columns)
    ///     state:     s_j = α·φ''(a_j,τ−1)·Σ_col Q_{t−1,j,col}·(W_recᵀ V̄_t)_{j,col}
    ///                W̄_rec,jk += s_j·r̄_k,τ−1,  W̄_in,ji += s_j·x̄_i,τ−1,  b̄_rec,j += s_j·b̄_τ−1
    ///
    /// with e-prop's presynaptic traces r̄_τ = (1 − α)r̄_{τ−1} + α·r_{τ−1} (x̄ for inputs, b̄ for the
    /// bias, all from τ = 0). For k = 1, V̄_t = c·v_t/‖v_t‖² and this is the local rule of <doc:GradientFlossing>. The
    /// factors c_i are the window's own exponents, known at its end: the per-step terms are
    /// sums a synapse can accumulate online, one per exponent, combined with the broadcast c_i.
    func localGradient(target: Double, stateTerm: Bool) -> Parameters {
        let model = map.model, n = units, alpha = model.alpha, phi = model.activation, w = model.parameters.wRec
        let inputs = model.inputs
        let c = globalFactors(target: target)
        var grad = Parameters(zerosLike: model.parameters)
        var rBar = [Double](repeating: 0, count: n), xBar = [Double](repeating: 0, count: inputs), bBar = 0.0
        for tau in 1...(transient + window) {
            let prev = state(tau - 1)
            if tau > transient {
                // Traces r̄, x̄, b̄ are those of a_{τ−1}.
                let t = tau - transient
                let (q, r, qPrev) = (bases[t], factors[t - 1], bases[t - 1])
                let vBar = Self.qrAdjoint(q: q, r: r, qBar: nil, rBarDiagonal: (0..<k).map { c[$0] / r[$0, $0] })
                var dq = qPrev
                for j in 0..<n { let d = phi.derivative(prev[j]); for col in 0..<k { dq[j, col] *= d } }
                Matrix.gemm(.none, vBar, .transposed, dq, into: &grad.wRec, alpha: alpha, beta: 1)
                if stateTerm {
                    let p = Matrix.product(.transposed, w, .none, vBar)
                    var s = [Double](repeating: 0, count: n)
                    for j in 0..<n {
                        for col in 0..<k { s[j] += qPrev[j, col] * p[j, col] }
                        s[j] *= alpha * phi.secondDerivative(prev[j])
                        for i in 0..<inputs { grad.wIn[j, i] += s[j] * xBar[i] }
                        grad.bRec[j] += s[j] * bBar
                    }
                    grad.wRec.addOuterProduct(s, rBar)
                }
            }
            // Advance the traces to a_τ.
            let x = map.input(at: tau - 1)
            for i in 0..<n { rBar[i] = (1 - alpha) * rBar[i] + alpha * phi(prev[i]) }
            for i in 0..<inputs { xBar[i] = (1 - alpha) * xBar[i] + alpha * (x.isEmpty ? 0 : x[i]) }
            bBar = (1 - alpha) * bBar + alpha
        }
        return grad
    }
}

extension RNNMap {
    /// The input x driving the step from time t to t + 1 (zeros when autonomous).
    public func input(at t: Int) -> [Double] {
        guard inputs.rows > 0 else { return Array(repeating: 0, count: model.inputs) }
        return inputs.row(t % inputs.rows)
    }
}
