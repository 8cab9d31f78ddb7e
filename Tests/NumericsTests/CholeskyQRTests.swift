import BioRNN
import BioRNNTesting
import Foundation
import PropertyBased
import Testing

/// CholeskyQR2's error budget (Yamamoto, Nakatsukasa, Yanagisawa & Fukaya 2015, Thms 3.2–3.3),
/// for an m×n block whose first round is accepted:
///
///     ‖QᵀQ − I‖_F ≤ 6·(m·n + n·(n + 1))·u          orthogonality
///     ‖Q·R − A‖_F ≤ 5·n²·√n·u·‖A‖₂ ≤ 5·n²·√n·u·‖A‖_F  residual
///
/// When the fallback fires the Householder budgets apply instead; the residual bound below adds
/// Householder's 10·m·n·u so that one budget covers both.
enum CholeskyQRBudget {
    static func orthogonality(rows m: Int, cols n: Int) -> Double {
        6 * Double(m * n + n * (n + 1)) * ErrorBudget.unitRoundoff
    }

    static func residual(rows m: Int, cols n: Int) -> Double {
        (5 * Double(n * n) * Double(n).squareRoot()) * ErrorBudget.unitRoundoff + ErrorBudget.householderQRBackward(rows: m, cols: n)
    }
}

/// Runs CholeskyQR2 on A (m×n, as its k×n transpose) and returns Q (m×n), R and the fallback count.
func choleskyQR2(_ a: Matrix) -> (q: Matrix, r: Matrix, fallbacks: Int) {
    let qr = CholeskyQR2(dimension: a.rows, count: a.cols)
    var block = a.transposed
    var r = Matrix(rows: a.cols, cols: a.cols)
    qr.orthonormalize(&block, r: &r)
    return (block.transposed, r, qr.fallbacks)
}

/// U·diag(σ)·Vᵀ (m×n) with σ log-spaced from 1 down to 1/κ: a block of known condition number.
func conditionedBlock(rows m: Int, cols n: Int, condition kappa: Double, seed: UInt64) -> Matrix {
    var rng = RandomStream(seed: seed, purpose: .network)
    let u = Matrix.randomNormal(rows: m, cols: n, sd: 1, using: &rng).qr.q
    var v = Matrix.randomNormal(rows: n, cols: n, sd: 1, using: &rng).qr.q
    for j in 0..<n {
        let sigma = pow(kappa, -Double(j) / Double(max(n - 1, 1)))
        for i in 0..<n { v[i, j] *= sigma }
    }
    return Matrix.product(.none, u, .transposed, v)
}

@Suite("CholeskyQR2 with Householder fallback")
struct CholeskyQRTests {
    @Test("QᵀQ = I, Q·R = A and R equal to Householder's within their budgets; R upper with R_ii > 0")
    func factorisation() async {
        await propertyCheck(count: 100, input: qrCases) { c in
            let a = c.matrix()
            let (q, r, _) = choleskyQR2(a)
            let defect = Matrix.product(.transposed, q, .none, q) - .identity(c.n)
            #expect(defect.frobeniusNorm <= CholeskyQRBudget.orthogonality(rows: c.m, cols: c.n), "\(c)")
            #expect((q * r - a).frobeniusNorm <= CholeskyQRBudget.residual(rows: c.m, cols: c.n) * a.frobeniusNorm, "\(c)")
            for i in 0..<c.n {
                #expect(r[i, i] > 0)
                for j in 0..<i { #expect(r[i, j] == 0) }
            }
            // Both are backward stable: ‖ΔR‖_F ≤ √2·κ₂(A)·‖ΔA‖_F (Sun 1991), κ₂(A) ≤ κ_F(R).
            let householder = a.qr.r
            let tol = 2.0.squareRoot() * ErrorBudget.frobeniusCondition(upperTriangular: householder)
                * (CholeskyQRBudget.residual(rows: c.m, cols: c.n) + ErrorBudget.householderQRBackward(rows: c.m, cols: c.n)) * a.frobeniusNorm
            #expect((r - householder).frobeniusNorm <= tol, "\(c)")
        }
    }

    @Test("the fallback fires only when it must: κ = 10⁴ passes CholeskyQR2, κ = 10¹⁰ falls back; both end orthonormal")
    func fallback() {
        // κ = 10⁴: the first round's Q₁ is off by about κ²·u·(mn) ≈ 1e-4, far inside the 0.1 rule.
        // κ = 10¹⁰: κ²·u ≫ 1, G is not numerically positive definite (or Q₁ useless): Householder.
        for (kappa, expected) in [(1e4, 0), (1e10, 1)] {
            let a = conditionedBlock(rows: 120, cols: 40, condition: kappa, seed: 3)
            let (q, r, fallbacks) = choleskyQR2(a)
            #expect(fallbacks == expected, "κ = \(kappa)")
            let defect = Matrix.product(.transposed, q, .none, q) - .identity(40)
            #expect(defect.frobeniusNorm <= CholeskyQRBudget.orthogonality(rows: 120, cols: 40), "κ = \(kappa)")
            #expect((q * r - a).frobeniusNorm <= CholeskyQRBudget.residual(rows: 120, cols: 40) * a.frobeniusNorm, "κ = \(kappa)")
        }
    }

    @Test("log R_ii from the spectrum's entry point equals log of the full R's diagonal")
    func logDiagonal() {
        let a = conditionedBlock(rows: 50, cols: 12, condition: 100, seed: 9)
        let (_, r, _) = choleskyQR2(a)
        let qr = CholeskyQR2(dimension: 50, count: 12)
        var block = a.transposed, logs = [Double](repeating: 0, count: 12)
        qr.orthonormalize(&block, logDiagonal: &logs)
        // R_ii = (U₂)_ii·(U₁)_ii either way; log of a product versus a sum of logs: 2 roundings.
        for i in 0..<12 { #expect(abs(logs[i] - log(r[i, i])) <= 4 * ErrorBudget.unitRoundoff * max(1, abs(logs[i]))) }
    }
}
