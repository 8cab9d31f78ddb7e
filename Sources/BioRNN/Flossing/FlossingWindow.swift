import Foundation
import CKernels
import COpenBLAS

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
///
/// The bases are kept as the spectrum keeps its block, Q_tᵀ with one tangent vector per row, and
/// the gradients below are written on these transposes, so no step transposes a block.
public struct FlossingWindow {
    public let map: RNNMap
    public let k: Int, transient: Int, window: Int
    /// a_τ, τ = 0…T0+Tf, each N long, flat.
    public let states: [Double]
    /// Q_tᵀ (k×N, one tangent vector per row), t = 0…Tf.
    public let bases: [Matrix]
    /// R_t (k×k), t = 1…Tf (index t − 1).
    public let factors: [Matrix]
    public let exponents: [Double]

    public var units: Int { map.dimension }

    public func loss(target: Double) -> Double {
        exponents.reduce(0) { $0 + ($1 - target) * ($1 - target) } / Double(k)
    }

    public func state(_ tau: Int) -> [Double] { Array(states[(tau * units)..<((tau + 1) * units)]) }

    /// Q_t as an N×k matrix.
    public func basis(_ t: Int) -> Matrix { bases[t].transposed }

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
        let q0 = start?.basis ?? Matrix.randomNormal(rows: n, cols: k, sd: 1, using: &orng).qr.q
        precondition(q0.rows == n && q0.cols == k, "start basis is \(q0.rows)×\(q0.cols), expected \(n)×\(k)")
        var q = q0.transposed
        var bases = [q], factors: [Matrix] = []
        bases.reserveCapacity(window + 1)
        factors.reserveCapacity(window)
        let qr = CholeskyQR2(dimension: n, count: k)
        var sums = [Double](repeating: 0, count: k)
        for t in 1...window {
            let tau = transient + t
            map.applyJacobian(at: a, time: tau - 1, toRows: &q)
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

    /// The adjoint of one thin QR step V = Q·R (V n×k, n ≥ k, diag R > 0), given Q̄ and a diagonal R̄:
    ///
    ///     M = R·R̄ᵀ − Q̄ᵀ·Q,   V̄ = (Q̄ + Q·copyltu(M))·R⁻ᵀ,   copyltu(M) = tril(M) + tril(M, −1)ᵀ
    ///
    /// (Walter & Lehmann 2018; Liao et al., PRX 2019, eq. for the reduced QR), computed on the
    /// transposes the window keeps (k×n, one vector per row): copyltu(M) is symmetric, so
    ///
    ///     V̄ᵀ = R⁻¹·(Q̄ᵀ + copyltu(M)·Qᵀ)
    ///
    /// one k×k×n product for M, one for V̄ᵀ and a triangular solve. Here R̄ = diag(c_i / R_ii), the
    /// loss's ∂L/∂R (c from `globalFactors`). R is well conditioned: `record` refuses windows whose
    /// R_ii collapse. `scratch` (k×k) holds M.
    static func qrAdjoint(qT: Matrix, r: Matrix, qBarT: Matrix?, c: [Double],
                          into vBarT: inout Matrix, scratch m: inout Matrix) {
        let (k, n) = (qT.rows, qT.cols)
        for i in 0..<k { for j in 0..<k { m[i, j] = r[i, j] * (c[j] / r[j, j]) } }   // R·R̄ᵀ, R̄ diagonal
        if let qBarT { Matrix.gemm(.none, qBarT, .transposed, qT, into: &m, alpha: -1, beta: 1) }   // − Q̄ᵀQ
        for i in 0..<k { for j in (i + 1)..<k { m[i, j] = m[j, i] } }   // copy lower to upper
        if let qBarT { vBarT.withUnsafeMutableEntries { _ = $0.update(fromContentsOf: qBarT.storage) } }
        Matrix.gemm(.none, m, .none, qT, into: &vBarT, alpha: 1, beta: qBarT == nil ? 0 : 1)
        // V̄ᵀ ← R⁻¹·V̄ᵀ. LAPACK reads the row-major k×n block as its column-major n×k transpose V̄
        // and R's row-major storage as Rᵀ (lower triangular), so it solves V̄·Rᵀ = X from the right.
        var (nn, kk, one) = (Int32(n), Int32(k), 1.0)
        r.storage.withUnsafeBufferPointer { rp in
            vBarT.withUnsafeMutableEntries { v in
                dtrsm_("R", "L", "N", "N", &nn, &kk, &one, rp.baseAddress, &kk, v.baseAddress, &nn)
            }
        }
    }

    /// P = V̄ᵀ·W_rec (k×N, the rows of (W_recᵀ·V̄)ᵀ) on W_recᵀ packed once per gradient. It runs on
    /// the calling thread: a second thread is adding the window's outer products meanwhile
    /// (`OuterProductStack`), and splitting these rows over the same cores as well made a full
    /// flossing step slower (<doc:Performance#Flossing-windows>).
    private static func timesRecurrent(_ vBarT: Matrix, _ packed: PackedMatrix, into p: inout Matrix) {
        let (k, n) = (vBarT.rows, vBarT.cols)
        vBarT.storage.withUnsafeBufferPointer { vp in
            p.withUnsafeMutableEntries { pp in
                let (v, out) = (vp.baseAddress!, pp.baseAddress!)
                out.update(repeating: 0, count: k * n)
                packed.accumulate(rows: k, alpha: 1, v, ldr: n, into: out, ldc: n)
            }
        }
    }

    /// What both gradients take from window step t once V̄_t is known: the explicit rows
    /// α·V̄_t·(D·Q_{t−1})ᵀ, stacked into `outer` (D = diag(`slopes`), φ'(a_{τ−1})), and, given
    /// P = V̄_tᵀ·W_rec, u_j = Σ_col Q_{t−1,j,col}·(W_recᵀV̄_t)_{j,col} into `u` (zeros without P).
    private func stepTerms(_ t: Int, vBar: Matrix, slopes: [Double], p: Matrix?, into u: inout [Double],
                           outer: OuterProductStack) {
        let (n, alpha) = (units, map.model.alpha)
        let (left, right) = outer.next(rows: k)
        // One pass in C (`biornn_flossing_step_terms`), which vectorises where this loop in Swift
        // did not (<doc:Performance#Flossing-windows>); the same operations, the same bits.
        bases[t - 1].storage.withUnsafeBufferPointer { qPrev in
            vBar.storage.withUnsafeBufferPointer { v in
                slopes.withUnsafeBufferPointer { slopes in
                    u.withUnsafeMutableBufferPointer { u in
                        if let p {
                            p.storage.withUnsafeBufferPointer { p in
                                biornn_flossing_step_terms(k, n, alpha, v.baseAddress!, qPrev.baseAddress!, slopes.baseAddress!,
                                                           p.baseAddress!, left, right, u.baseAddress!)
                            }
                        } else {
                            biornn_flossing_step_terms(k, n, alpha, v.baseAddress!, qPrev.baseAddress!, slopes.baseAddress!,
                                                       nil, left, right, u.baseAddress!)
                        }
                    }
                }
            }
        }
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
    /// The k + 1 outer products a step adds to W̄_rec are stacked and added as one product over
    /// many steps (``OuterProductStack``); only W_recᵀ·V̄_t and the QR adjoint run step by step.
    /// In chaotic networks ā grows like e^{λ·Tf} backwards through the window, so the exact
    /// gradient's direction degrades with long windows: full flossing wants short windows
    /// (Tf ≈ 50 at λ ≈ 0.1 per step), local flossing does not (see the README's measurements).
    func fullGradient(target: Double) -> Parameters {
        let model = map.model, n = units, alpha = model.alpha, phi = model.activation, w = model.parameters.wRec
        let c = globalFactors(target: target)
        var grad = Parameters(zerosLike: model.parameters)
        let packed = PackedMatrix(w, transposed: true)
        let outer = OuterProductStack(width: n, rowsPerStep: k + 1)
        var vBar = Matrix(rows: k, cols: n), p = vBar, qBar = vBar, m = Matrix(rows: k, cols: k)
        var aBar = [Double](repeating: 0, count: n), aBarPrev = aBar, slopes = aBar, rates = aBar
        var started = false
        for t in stride(from: window, through: 1, by: -1) {
            let tau = transient + t
            let prev = state(tau - 1)
            phi.derivatives(of: prev, into: &slopes)
            Self.qrAdjoint(qT: bases[t], r: factors[t - 1], qBarT: started ? qBar : nil, c: c, into: &vBar, scratch: &m)
            started = true
            Self.timesRecurrent(vBar, packed, into: &p)
            // The explicit rows, ā_{τ−1}'s QR term and Q̄_{t−1}.
            stepTerms(t, vBar: vBar, slopes: slopes, p: p, into: &aBarPrev, outer: outer)
            for j in 0..<n { aBarPrev[j] *= alpha * phi.secondDerivative(prev[j]) }
            vBar.storage.withUnsafeBufferPointer { v in
                p.storage.withUnsafeBufferPointer { p in
                    qBar.withUnsafeMutableEntries { qb in
                        for col in 0..<k {
                            for j in 0..<n { qb[col * n + j] = (1 - alpha) * v[col * n + j] + alpha * slopes[j] * p[col * n + j] }
                        }
                    }
                }
            }
            // Through the dynamics a_τ = (1 − α)a_{τ−1} + α(W_rec φ(a_{τ−1}) + W_in x_{τ−1} + b_rec).
            if aBar.contains(where: { $0 != 0 }) {
                let x = map.input(at: tau - 1)
                let back = w.times(aBar, .transposed)
                prev.withUnsafeBufferPointer { phi.apply($0.baseAddress!, to: &rates, count: n) }
                let (left, right) = outer.next(rows: 1)
                for j in 0..<n {
                    left[j] = aBar[j]
                    right[j] = alpha * rates[j]
                    let aj = alpha * aBar[j]
                    for i in 0..<x.count { grad.wIn[j, i] += aj * x[i] }
                    grad.bRec[j] += aj
                    aBarPrev[j] += (1 - alpha) * aBar[j] + alpha * slopes[j] * back[j]
                }
            }
            swap(&aBar, &aBarPrev)
        }
        outer.add(into: &grad.wRec)
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
    /// The W̄_rec terms are stacked and added over many steps at once, as in the full gradient.
    func localGradient(target: Double, stateTerm: Bool) -> Parameters {
        let model = map.model, n = units, alpha = model.alpha, phi = model.activation, w = model.parameters.wRec
        let inputs = model.inputs
        let c = globalFactors(target: target)
        var grad = Parameters(zerosLike: model.parameters)
        let packed = stateTerm ? PackedMatrix(w, transposed: true) : nil
        let outer = OuterProductStack(width: n, rowsPerStep: k + 1)
        var vBar = Matrix(rows: k, cols: n), p = vBar, m = Matrix(rows: k, cols: k)
        var rBar = [Double](repeating: 0, count: n), xBar = [Double](repeating: 0, count: inputs), bBar = 0.0
        var slopes = rBar, s = rBar, rates = rBar
        for tau in 1...(transient + window) {
            let prev = state(tau - 1)
            if tau > transient {
                // Traces r̄, x̄, b̄ are those of a_{τ−1}.
                let t = tau - transient
                Self.qrAdjoint(qT: bases[t], r: factors[t - 1], qBarT: nil, c: c, into: &vBar, scratch: &m)
                phi.derivatives(of: prev, into: &slopes)
                if let packed { Self.timesRecurrent(vBar, packed, into: &p) }
                stepTerms(t, vBar: vBar, slopes: slopes, p: stateTerm ? p : nil, into: &s, outer: outer)
                if stateTerm {
                    let (left, right) = outer.next(rows: 1)
                    for j in 0..<n {
                        s[j] *= alpha * phi.secondDerivative(prev[j])
                        for i in 0..<inputs { grad.wIn[j, i] += s[j] * xBar[i] }
                        grad.bRec[j] += s[j] * bBar
                        left[j] = s[j]
                        right[j] = rBar[j]
                    }
                }
            }
            // Advance the traces to a_τ.
            let x = map.input(at: tau - 1)
            prev.withUnsafeBufferPointer { phi.apply($0.baseAddress!, to: &rates, count: n) }
            for i in 0..<n { rBar[i] = (1 - alpha) * rBar[i] + alpha * rates[i] }
            for i in 0..<inputs { xBar[i] = (1 - alpha) * xBar[i] + alpha * (x.isEmpty ? 0 : x[i]) }
            bBar = (1 - alpha) * bBar + alpha
        }
        outer.add(into: &grad.wRec)
        return grad
    }
}

/// A sum of many outer products, Σ_r a_r·b_rᵀ (each a_r, b_r of length `width`), added as one
/// product Aᵀ·B of the stacked rows whenever the stacks fill, instead of one rank-one or rank-k
/// update per step: a flossing window adds k + 1 of them to W̄_rec at every step, and one
/// N×N×512 product (`Matrix.addTransposedProduct`) runs near the machine's peak where k×N×N
/// updates do not.
///
/// With a second thread (`BLAS.threadCount` > 1), a full pair of stacks is added on a helper
/// thread while the caller fills the other pair, so the window's step-by-step work and the
/// products overlap (<doc:Performance#Flossing-windows>). The stacks' size is fixed (at least 512
/// rows), every product runs on one thread, and each waits for the one before it, so the order
/// of the sums, and the bits, depend on the window alone, not on the threads.
final class OuterProductStack: @unchecked Sendable {   // the helper touches only a full pair and `sum`
    let width: Int
    let capacity: Int
    private var count = 0
    private var filling = 0
    private let stacks: [(left: UnsafeMutablePointer<Double>, right: UnsafeMutablePointer<Double>)]
    private let sum: UnsafeMutablePointer<Double>
    private let helper: DispatchQueue?
    private let pending = DispatchGroup()

    /// Room for at least 512 rows, and for at least one step's `rowsPerStep`.
    init(width: Int, rowsPerStep: Int) {
        self.width = width
        capacity = max(512, rowsPerStep)
        let size = capacity * width
        stacks = (0..<2).map { _ in (.allocate(capacity: size), .allocate(capacity: size)) }
        sum = .allocate(capacity: width * width)
        sum.initialize(repeating: 0, count: width * width)
        helper = BLAS.threadCount > 1 ? DispatchQueue(label: "biornn.outer-products") : nil
    }

    deinit {
        pending.wait()
        for (left, right) in stacks { left.deallocate(); right.deallocate() }
        sum.deallocate()
    }

    /// Room for `rows` more pairs (a_r, b_r), rows × width each, to be filled by the caller before
    /// the next call; a full pair of stacks is first added to the sum.
    func next(rows: Int) -> (left: UnsafeMutablePointer<Double>, right: UnsafeMutablePointer<Double>) {
        precondition(rows <= capacity, "\(rows) rows exceed the stack's \(capacity)")
        if count + rows > capacity { addStacks() }
        defer { count += rows }
        return (stacks[filling].left + count * width, stacks[filling].right + count * width)
    }

    /// target += the sum of every outer product so far; the stacks are then empty.
    func add(into target: inout Matrix) {
        precondition(target.rows == width && target.cols == width, "the target is \(target.rows)×\(target.cols), the stack's width \(width)")
        pending.wait()
        addStacks(waiting: true)
        target.withUnsafeMutableEntries { c in
            for idx in 0..<(width * width) { c[idx] += sum[idx] }
        }
        sum.update(repeating: 0, count: width * width)
    }

    /// sum += Aᵀ·B over the filled pair of stacks, on the helper when there is one and the caller
    /// is not `waiting` for the sum; the caller goes on filling the other pair, whose own product
    /// finished before this one starts.
    private func addStacks(waiting: Bool = false) {
        guard count > 0 else { return }
        // The pair is the caller's again only after `pending.wait()`, so the helper has it alone.
        nonisolated(unsafe) let (left, right, sum) = (stacks[filling].left, stacks[filling].right, sum)
        let (rows, width) = (count, width)
        let product: @Sendable () -> Void = {
            Matrix.addTransposedProduct(left, lda: width, right, ldb: width, m: width, rows: rows, alpha: 1,
                                        into: sum, ldc: width, rowsOfC: 0..<width)
        }
        if let helper, !waiting {
            pending.wait()   // the other pair is free, and the sums stay in order
            helper.async(group: pending, execute: product)
            filling = 1 - filling
        } else {
            product()
        }
        count = 0
    }
}

extension RNNMap {
    /// The input x driving the step from time t to t + 1 (zeros when autonomous).
    public func input(at t: Int) -> [Double] {
        guard inputs.rows > 0 else { return Array(repeating: 0, count: model.inputs) }
        return inputs.row(t % inputs.rows)
    }
}
