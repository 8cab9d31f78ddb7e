import BioRNN
import Foundation

/// Rounding-error budgets, written out so that every tolerance in the tests has a reason.
/// Notation follows Higham, *Accuracy and Stability of Numerical Algorithms* (2nd ed., 2002).
public enum ErrorBudget {
    /// Unit roundoff of Double: u = 2⁻⁵³.
    public static let unitRoundoff = Double.ulpOfOne / 2

    /// γ_n = n·u / (1 − n·u): the relative error bound of n successive roundings (Higham §3.1).
    public static func gamma(_ n: Int) -> Double {
        let nu = Double(n) * unitRoundoff
        precondition(nu < 1, "gamma(\(n)) is undefined")
        return nu / (1 - nu)
    }

    /// Per-entry bound on |C − C'| between two computations of C = α·op(A)·op(B) + β·C₀.
    ///
    /// Each computed inner product of length k is within γ_k·(|op(A)|·|op(B)|)_ij of the exact
    /// one, in any summation order (Higham eq. 3.13, so also for blocked/FMA kernels); scaling by
    /// α, adding β·C₀ and the final rounding cost two more roundings: γ_{k+2}. Two independent
    /// computations therefore differ by at most 2·γ_{k+2}·(|α|·(|op(A)||op(B)|)_ij + |β|·|C₀_ij|).
    public static func gemm(
        _ transA: Transpose, _ a: Matrix, _ transB: Transpose, _ b: Matrix,
        c0: Matrix?, alpha: Double, beta: Double
    ) -> Matrix {
        let opA = transA == .none ? a : a.transposed
        let opB = transB == .none ? b : b.transposed
        let (m, k, n) = (opA.rows, opA.cols, opB.cols)
        let g = 2 * gamma(k + 2)
        var bound = Matrix(rows: m, cols: n)
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for l in 0..<k { s += abs(opA[i, l]) * abs(opB[l, j]) }
                bound[i, j] = g * (abs(alpha) * s + abs(beta) * abs(c0?[i, j] ?? 0))
            }
        }
        return bound
    }

    /// Backward error of Householder QR of an m×n matrix: the computed factors are the exact QR
    /// of A + ΔA with ‖ΔA‖_F ≤ γ̃_{mn}‖A‖_F (Higham Thm 19.4), γ̃ being γ with a small constant:
    /// we take c = 10, i.e. 10·m·n·u.
    public static func householderQRBackward(rows m: Int, cols n: Int) -> Double {
        gamma(10 * m * n)
    }

    /// κ_F(R) = ‖R‖_F·‖R⁻¹‖_F for an upper-triangular R with nonzero diagonal (an upper bound on
    /// the 2-norm condition number, so tolerances built from it are safe). R⁻¹ by back-substitution.
    public static func frobeniusCondition(upperTriangular r: Matrix) -> Double {
        let n = r.rows
        var inv = Matrix(rows: n, cols: n)
        for j in 0..<n {
            // Solve R x = e_j.
            for i in stride(from: n - 1, through: 0, by: -1) {
                var s = i == j ? 1.0 : 0.0
                for l in (i + 1)..<max(i + 1, n) { s -= r[i, l] * inv[l, j] }
                inv[i, j] = s / r[i, i]
            }
        }
        return r.frobeniusNorm * inv.frobeniusNorm
    }
}

/// Files under the repository's `fixtures/` folder, found from a test source file's path.
public enum Fixtures {
    /// `fixtures/<name>`, given `#filePath` of a file inside `Tests/` or `Sources/`.
    public static func url(_ name: String, from filePath: String = #filePath) -> URL {
        var dir = URL(fileURLWithPath: filePath).deletingLastPathComponent()
        while dir.path != "/" {
            let candidate = dir.appendingPathComponent("fixtures")
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("README.md").path) {
                return candidate.appendingPathComponent(name)
            }
            dir = dir.deletingLastPathComponent()
        }
        fatalError("no fixtures/README.md above \(filePath)")
    }
}

