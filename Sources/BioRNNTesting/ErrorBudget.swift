import BioRNN
import Foundation

/// Rounding-error budgets, written out so that every tolerance in the tests has a reason.
/// Notation follows Higham, *Accuracy and Stability of Numerical Algorithms* (2nd ed., 2002).
public enum ErrorBudget {
    /// Unit roundoff of Double: u = 2⁻⁵³ (``RoundingBounds``, shared with the golden corpus).
    public static let unitRoundoff = RoundingBounds.unitRoundoff

    /// γ_n = n·u / (1 − n·u): the relative error bound of n successive roundings (Higham §3.1).
    public static func gamma(_ n: Int) -> Double { RoundingBounds.gamma(n) }

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

    /// Backward error of Householder QR of an m×n matrix (``RoundingBounds``): 10·m·n·u.
    public static func householderQRBackward(rows m: Int, cols n: Int) -> Double {
        RoundingBounds.householderQRBackward(rows: m, cols: n)
    }

    /// κ_F(R) = ‖R‖_F·‖R⁻¹‖_F for an upper-triangular R (``RoundingBounds``).
    public static func frobeniusCondition(upperTriangular r: Matrix) -> Double {
        RoundingBounds.frobeniusCondition(upperTriangular: r)
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

