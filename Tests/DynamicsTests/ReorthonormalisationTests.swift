import BioRNN
import BioRNNTesting
import Foundation
import Testing

/// The spectrum as it was computed before CholeskyQR2: the block kept N×k and re-orthonormalised
/// by Householder (LAPACK dgeqrf + dorgqr) every step. The reference the fast path must equal.
func householderSpectrum(of map: some DynamicalMap, k: Int, options: LyapunovOptions) -> [Double] {
    var rng = RandomStream(seed: options.initialConditionSeed, purpose: .initialCondition)
    var x = map.initialState(using: &rng)
    for t in 0..<options.transient { map.step(&x, time: t) }
    var orng = RandomStream(seed: options.orthonormalSeed, purpose: .orthonormal)
    var q = Matrix.randomNormal(rows: map.dimension, cols: k, sd: 1, using: &orng).qr.q
    let qr = HouseholderQR(rows: map.dimension, cols: k)
    var r = Matrix(rows: k, cols: k), sums = [Double](repeating: 0, count: k)
    for s in 0..<options.steps {
        map.applyJacobian(at: x, time: options.transient + s, to: &q)
        map.step(&x, time: options.transient + s)
        qr.orthonormalize(&q, r: &r)
        for i in 0..<k { sums[i] += log(r[i, i]) }
    }
    return sums.map { $0 / Double(options.steps) }.sorted(by: >)
}

/// κ₂(J) from the eigenvalues of JᵀJ (GSL).
func condition(_ j: Matrix) throws -> Double {
    let squares = try GSL.eigenvalues(Matrix.product(.transposed, j, .none, j)).map(\.re)
    return (squares.max()! / squares.min()!).squareRoot()
}

/// ‖Q·Qᵀ − I‖_F for a block with orthonormal rows.
func rowDefect(_ q: Matrix) -> Double {
    (Matrix.product(.none, q, .transposed, q) - .identity(q.rows)).frobeniusNorm
}

@Suite("Re-orthonormalisation: CholeskyQR2 changes nothing but speed")
struct ReorthonormalisationTests {
    /// The rounding budget between the two paths. Per step both factor the same V_t = J_t·Q_{t−1}
    /// backward stably, with relative backward errors δ_C = 5k²√k·u (CholeskyQR2) and
    /// δ_H = 10nk·u (Householder). A relative perturbation δ of V moves log R_ii by at most
    /// √2·κ₂(V)·δ·‖V‖_F/R_ii ≤ √2·√k·κ₂(V)²·δ (Sun 1991; R_ii ≥ σ_min, ‖V‖_F ≤ √k·σ_max), and
    /// κ₂(V_t) ≤ κ₂(J_t). The bases' rounding differences do not grow (they contract towards the
    /// same Oseledets flag, or rotate within a complex pair's plane), so the mean over the steps
    /// differs by at most the per-step bound.
    static func budget(units n: Int, k: Int, conditionBound kappa: Double) -> Double {
        let u = ErrorBudget.unitRoundoff
        let delta = 5 * Double(k * k) * Double(k).squareRoot() * u + 10 * Double(n * k) * u
        return 2.0.squareRoot() * Double(k).squareRoot() * kappa * kappa * 2 * delta
    }

    @Test("linear maps and a stable fixed point: the exponents equal Householder's within the rounding budget (κ(J) from GSL)")
    func closedForms() throws {
        let options = LyapunovOptions(transient: 0, steps: 2000)
        for (n, alpha, seed) in [(20, 0.1, UInt64(2)), (50, 1.0, 3)] {
            let model = linearNetwork(units: n, gain: 1.1, alpha: alpha, seed: seed)
            let j = (1 - alpha) * Matrix.identity(n) + alpha * model.parameters.wRec
            let kappa = try condition(j)
            for k in Set([n, n / 3]) {
                let fast = try Lyapunov.spectrum(of: RNNMap(model), k: k, options: options).exponents
                let reference = householderSpectrum(of: RNNMap(model), k: k, options: options)
                let tol = Self.budget(units: n, k: k, conditionBound: kappa)
                let worst = zip(fast, reference).map { abs($0 - $1) }.max()!
                #expect(worst <= tol, "N = \(n), α = \(alpha), k = \(k): \(worst) (budget \(tol), κ(J) = \(kappa))")
            }
        }
        // tanh, g = 0.5, α = 1: after the transient J_t = W_rec·diag(φ'(0)) = W_rec to rounding.
        let model = RNN.initial(units: 40, inputs: 1, outputs: 1, alpha: 1, activation: .tanh, connectivity: .gaussian(gain: 0.5), seed: 4)
        let fixedPoint = LyapunovOptions(transient: 2000, steps: 2000)
        let fast = try Lyapunov.spectrum(of: RNNMap(model), k: 40, options: fixedPoint).exponents
        let reference = householderSpectrum(of: RNNMap(model), k: 40, options: fixedPoint)
        let tol = Self.budget(units: 40, k: 40, conditionBound: try condition(model.parameters.wRec))
        #expect(zip(fast, reference).allSatisfy { abs($0 - $1) <= tol })
    }

    @Test("the Hénon map: both exponents equal Householder's within the budget, κ(J_t) bounded on the attractor")
    func henon() throws {
        // J = [[−2a·x, 1], [b, 0]]: |det J| = b, ‖J‖_F² = 4a²x² + 1 + b², so κ₂(J) ≤ ‖J‖_F²/|det J|,
        // and |x| ≤ 1.3 on the attractor: κ ≤ (4·1.96·1.69 + 1.09)/0.3 ≈ 48.
        let options = LyapunovOptions(transient: 1000, steps: 20_000)
        let fast = try Lyapunov.spectrum(of: HenonMap(), k: 2, options: options).exponents
        let reference = householderSpectrum(of: HenonMap(), k: 2, options: options)
        let kappa = (4 * 1.4 * 1.4 * 1.69 + 1 + 0.09) / 0.3
        let tol = Self.budget(units: 2, k: 2, conditionBound: kappa)
        for i in 0..<2 { #expect(abs(fast[i] - reference[i]) <= tol, "λ\(i + 1): \(fast[i]) vs \(reference[i]), budget \(tol)") }
    }

    @Test("chaotic, ordered and full-spectrum networks: ‖QQᵀ − I‖_F ≤ 1e-12 at every step, exponents within the standard error of Householder's",
          arguments: [(256, 32, 1.5, 0.1, false), (128, 16, 0.5, 0.2, false), (64, 64, 2.0, 0.2, false), (96, 96, 3.0, 1.0, true)])
    func networks(units n: Int, k: Int, gain: Double, alpha: Double, fallsBack: Bool) throws {
        // With α < 1, J_t = (1 − α)I + α·W·D is well conditioned and CholeskyQR2 never falls back.
        // At α = 1 and g = 3 the full spectrum reaches exponents near −4 (R_kk ≈ e⁻⁴ against
        // R_11 ≈ e: κ(V) ≈ 10³ and beyond in some steps), where some steps must fall back.
        let model = RNN.initial(units: n, inputs: 1, outputs: 1, alpha: alpha, activation: .tanh, connectivity: .gaussian(gain: gain), seed: 5)
        let options = LyapunovOptions(transient: 200, steps: 1000)
        var worstDefect = 0.0
        let (result, fallbacks) = try Lyapunov.observedSpectrum(of: RNNMap(model), k: k, options: options) { q in
            worstDefect = max(worstDefect, rowDefect(q))
        }
        // 1e-12 is the bound; CholeskyQR2's worst case 6(nk + k²)u is 1.7e-11 at n = k = 96,
        // typical values are a few ulps times √(nk).
        #expect(worstDefect <= 1e-12, "‖QQᵀ − I‖_F reached \(worstDefect)")
        #expect((fallbacks > 0) == fallsBack, "\(fallbacks) of 1000 steps fell back")
        let reference = householderSpectrum(of: RNNMap(model), k: k, options: options)
        for i in 0..<k {
            #expect(abs(result.exponents[i] - reference[i]) <= result.standardErrors[i], "λ\(i + 1)")
        }
        print("N = \(n), k = \(k), g = \(gain), α = \(alpha): \(fallbacks) fallbacks, max |Δλ| = \(zip(result.exponents, reference).map { abs($0 - $1) }.max()!), worst ‖QQᵀ − I‖_F = \(worstDefect)")
    }

    @Test("a saturated α = 1 network makes the fast path fall back, and the basis stays orthonormal at every step")
    func saturatedFallsBack() throws {
        // g = 40, α = 1, tanh: most units sit at ±1 with φ' ≈ 1e-30, so J_t = W_rec·diag(φ') has
        // a handful of non-negligible columns and V_t = J_t·Q is numerically rank deficient.
        let model = RNN.initial(units: 64, inputs: 1, outputs: 1, alpha: 1, activation: .tanh, connectivity: .gaussian(gain: 40), seed: 2)
        var worstDefect = 0.0
        let (result, fallbacks) = try Lyapunov.observedSpectrum(of: RNNMap(model), k: 8, options: LyapunovOptions(transient: 100, steps: 300)) { q in
            worstDefect = max(worstDefect, rowDefect(q))
        }
        #expect(fallbacks > 0)
        #expect(worstDefect <= 1e-12, "‖QQᵀ − I‖_F reached \(worstDefect)")
        #expect(result.exponents.allSatisfy { $0.isFinite || $0 == -.infinity })
        print("saturated network: \(fallbacks) of 300 steps fell back; λ1 = \(result.exponents[0])")
    }
}
