import Foundation

/// The rounding budgets of the corpus (<doc:GoldenValues>): how far a recomputation may move a
/// value through rounding alone. Where the computation is short and plain (a draw, a scale, one
/// forward pass) the budget is a first-order bound derived from its operations; where it runs
/// through factorisations, optimisers or many steps of a dynamical system, it is unit roundoff
/// times the computation's own condition, probed (``probed(chain:steps:values:seed:_:)``).
enum GoldenBudgets {
    static let u = RoundingBounds.unitRoundoff

    /// One Box–Muller normal draw: with ρ = √(−2 ln u₁) ≤ 8.6 (u₁ ≥ 2⁻⁵³), the argument 2πu₂
    /// carries 2 roundings (absolute ≤ 4πu), cos 1 ulp, ln, the square root and the two products
    /// about 3 relative roundings: |Δz| ≤ ρ(4π + 1)u + 3|z|u ≤ 8.6(4π + 4)u ≈ 1.6e-14.
    static let normalDraw = 8.6 * (4 * Double.pi + 4) * RoundingBounds.unitRoundoff

    /// The budget of a family's weights. Gaussian and sparse weights are one normal draw times one
    /// scale each; orthogonal weights come from a Householder QR of the same seed's Gaussian A.
    static func connectivity(family: String, gain g: Double, maxAbs: Double, n: Int, seed: UInt64) -> GoldenTolerance {
        switch family {
        case "gaussian", "sparse":
            let scale = family == "gaussian" ? g / Double(n).squareRoot() : g / (0.1 * Double(n)).squareRoot()
            return GoldenTolerance(.rounding, budget: scale * normalDraw + 2 * u * maxAbs,
                                   reason: "each weight is one normal draw times its scale (g/√N, or g/√(pN) where the exact Bernoulli mask keeps it): the draw's budget times the scale, plus 2 roundings")
        case "dale":
            return dale(gain: g, n: n, seed: seed)
        default:
            var rng = RandomStream(seed: seed, purpose: .network)
            let r = Matrix.randomNormal(rows: n, cols: n, sd: 1, using: &rng).qr.r
            let kappa = RoundingBounds.frobeniusCondition(upperTriangular: r)
            return GoldenTolerance(.rounding, budget: g * kappa * (RoundingBounds.householderQRBackward(rows: n, cols: n) + normalDraw),
                                   reason: "g·Q from a Householder QR of a Gaussian A: backward error ‖ΔA‖_F ≤ γ_{10N²}‖A‖_F (Higham, Thm 19.4, with the constant the tests use) plus the draws' own budget, and Q moves by at most κ_F(A) times that relative perturbation to first order; κ_F(A) = κ_F(R) from the computed R")
        }
    }

    /// Dale weights W = (g/ρ(W₀))·W₀, W₀ = |z_ij|·sign_j with each inhibitory column scaled by its
    /// row's Σ_E|z|/Σ_I|z| (row sums 0). To first order:
    ///
    ///     |ΔW₀_ij| ≤ c_i·β + |W₀_ij|·(2γ_N + N·β/min(Σ_E, Σ_I) + u)     (β a draw's budget, c_i = 1 or the row's ratio)
    ///     |Δρ|/ρ  ≤ κ·(‖ΔW₀‖_F + γ_{10N²}‖W₀‖_F)/ρ                   (dgeev: backward error as Householder's; κ the eigenvalue's condition)
    ///     |ΔW_ij| ≤ (g/ρ)·|ΔW₀_ij| + |W_ij|·(|Δρ|/ρ + 2u)
    static func dale(gain g: Double, n: Int, seed: UInt64) -> GoldenTolerance {
        var rng = RandomStream(seed: seed, purpose: .network)
        let (w, signs) = Connectivity.dale(gain: g).recurrentWeights(units: n, using: &rng)
        let nE = signs!.filter { $0 > 0 }.count
        // The draws again, for the rows' sums and ratios.
        rng = RandomStream(seed: seed, purpose: .network)
        var w0 = Matrix(rows: n, cols: n), drawError = Matrix(rows: n, cols: n)
        for i in 0..<n {
            let v = (0..<n).map { _ in abs(rng.normal()) }
            let sumE = v[..<nE].reduce(0, +), sumI = v[nE...].reduce(0, +), ratio = sumE / sumI
            let relative = 2 * RoundingBounds.gamma(n) + Double(n) * normalDraw / min(sumE, sumI) + u
            for j in 0..<n {
                w0[i, j] = j < nE ? v[j] : -v[j] * ratio
                drawError[i, j] = (j < nE ? 1 : ratio) * normalDraw + abs(w0[i, j]) * relative
            }
        }
        let (rho, kappa) = w0.spectralRadiusCondition
        let radiusError = kappa * (drawError.frobeniusNorm + RoundingBounds.householderQRBackward(rows: n, cols: n) * w0.frobeniusNorm) / rho
        var budget = 0.0
        for idx in 0..<(n * n) { budget = max(budget, g / rho * drawError.storage[idx] + abs(w.storage[idx]) * (radiusError + 2 * u)) }
        return GoldenTolerance(.rounding, budget: budget, reason: "W = (g/ρ(W₀))·W₀: the draws' and row ratios' errors, and ρ from dgeev moved by κ(λ_max)·(‖ΔW₀‖_F + γ_{10N²}‖W₀‖_F) (κ = \(String(format: "%.3g", kappa)), the eigenvalue's condition from its left and right eigenvectors), plus 2 roundings of the scaling")
    }

    /// The largest componentwise first-order error bound of a forward pass, over states and
    /// outputs (the derivation is the `forward` entries' reason):
    ///
    ///     e_t = (1−α)e_{t−1} + α|W_rec|(e_{t−1} + 4u|r_{t−1}|)
    ///           + γ_{N+I+3}((1−α)|a_{t−1}| + α(|W_rec||r_{t−1}| + |W_in||x_t| + |b_rec|))
    ///     |Δy_t| ≤ |W_out|(e_t + 4u|r_t|) + γ_{N+1}(|W_out||r_t| + |b_out|)
    static func forward(_ model: RNN, _ batch: Batch, _ tr: Trajectory) -> Double {
        let (T, B, N, I, O) = (batch.steps, batch.trials, model.units, model.inputs, model.outputs)
        let p = model.parameters, alpha = model.alpha
        let gState = RoundingBounds.gamma(N + I + 3), gOut = RoundingBounds.gamma(N + 1)
        var worst = 0.0
        for b in 0..<B {
            var e = [Double](repeating: 0, count: N)
            for t in stride(from: 1, through: T, by: 1) {
                let prev = (t - 1) * B + b, cur = t * B + b
                var next = [Double](repeating: 0, count: N)
                for j in 0..<N {
                    var propagated = 0.0, magnitude = abs(p.bRec[j])
                    for k in 0..<N {
                        let w = abs(p.wRec[j, k]), r = abs(tr.r[prev * N + k])
                        propagated += w * (e[k] + 4 * u * r)
                        magnitude += w * r
                    }
                    for i in 0..<I { magnitude += abs(p.wIn[j, i]) * abs(batch.inputs[((t - 1) * B + b) * I + i]) }
                    next[j] = (1 - alpha) * e[j] + alpha * propagated
                        + gState * ((1 - alpha) * abs(tr.a[prev * N + j]) + alpha * magnitude)
                    worst = max(worst, next[j])
                }
                e = next
                for o in 0..<O {
                    var bound = gOut * abs(p.bOut[o])
                    for k in 0..<N {
                        let w = abs(p.wOut[o, k]), r = abs(tr.r[cur * N + k])
                        bound += w * (e[k] + 4 * u * r) + gOut * w * r
                    }
                    worst = max(worst, bound)
                }
            }
        }
        return worst
    }

    /// Unit roundoff times the computation's condition, probed. A computation that is backward
    /// stable returns the exact result for inputs perturbed by relative errors of at most
    /// γ_K, K its longest chain of roundings; to first order its values then move by at most
    ///
    ///     |Δv_i| ≤ γ_K·Σ_j |∂v_i/∂x_j|·|x_j|      (the componentwise condition, Higham §3)
    ///
    /// The sum is probed: v is recomputed from inputs scaled by (1 + δξ_j), ξ_j = ±1 at random,
    /// for δ = 10⁻⁶ and 10⁻⁸ (first order, and a check that the response is linear); each probe
    /// gives |Σ_j ∂v_i/∂x_j·x_j·ξ_j|, whose expectation is at least ‖·‖₂/√2 (Khintchine) and so at
    /// least Σ_j|·|/√(2n). The budget is √(2n)·γ_K times the largest probed response, plus
    /// γ_K·steps·max|v| for roundings committed late in a `steps`-long computation, which no
    /// input perturbation stands for when the computation contracts.
    ///
    /// `compute(δ, ξ)` recomputes the values with every input x multiplied by (1 + δξ), ξ drawn
    /// from the stream it is given, and returns them with n, the number of inputs it perturbed.
    static func probed(chain K: Int, steps: Int, values: [Double], seed: UInt64 = 1, probes: Int = 2,
                       _ compute: (Double, inout RandomStream) throws -> (values: [Double], inputs: Int)) rethrows -> (budget: Double, condition: Double) {
        var response = 0.0, n = 1
        for probe in 0..<probes {
            for delta in [1e-6, 1e-8] {
                var xi = RandomStream(seed: seed, purpose: .goldenProbe, index: probe)
                let (moved, count) = try compute(delta, &xi)
                precondition(moved.count == values.count, "a probe computed \(moved.count) values, the entry has \(values.count)")
                n = max(n, count)
                for (a, b) in zip(moved, values) { response = max(response, abs(a - b) / delta) }
            }
        }
        let gamma = RoundingBounds.gamma(K), scale = values.map(abs).max() ?? 0
        let budget = (2 * Double(n)).squareRoot() * gamma * response + gamma * Double(steps) * scale
        return (budget, scale > 0 ? response / scale : 0)
    }

    /// ±1 at random.
    static func sign(_ rng: inout RandomStream) -> Double { rng.uniform() < 0.5 ? -1 : 1 }
}

extension Parameters {
    /// Every entry x scaled by (1 + δξ), ξ = ±1 from the stream (golden budgets' probes).
    func probed(_ delta: Double, using rng: inout RandomStream) -> Parameters {
        var p = self
        for (_, path) in Parameters.tensors {
            p[keyPath: path] = p[keyPath: path].map { $0 * (1 + delta * GoldenBudgets.sign(&rng)) }
        }
        return p
    }

    var entryCount: Int { Parameters.tensors.reduce(0) { $0 + self[keyPath: $1.path].count } }
}
