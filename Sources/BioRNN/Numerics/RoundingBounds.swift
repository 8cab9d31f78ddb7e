/// Rounding-error bounds that both the test budgets (`ErrorBudget` in BioRNNTesting) and the
/// golden corpus's tolerances (<doc:GoldenValues>) are built from. Notation follows Higham,
/// *Accuracy and Stability of Numerical Algorithms* (2nd ed., 2002).
public enum RoundingBounds {
    /// Unit roundoff of Double: u = 2⁻⁵³.
    public static let unitRoundoff = Double.ulpOfOne / 2

    /// γ_n = n·u / (1 − n·u): the relative error bound of n successive roundings (Higham §3.1).
    public static func gamma(_ n: Int) -> Double {
        let nu = Double(n) * unitRoundoff
        precondition(nu < 1, "gamma(\(n)) is undefined")
        return nu / (1 - nu)
    }

    /// Backward error of Householder QR of an m×n matrix: the computed factors are the exact QR
    /// of A + ΔA with ‖ΔA‖_F ≤ γ̃_{mn}‖A‖_F (Higham Thm 19.4), γ̃ being γ with a small constant:
    /// we take c = 10, i.e. 10·m·n·u.
    public static func householderQRBackward(rows m: Int, cols n: Int) -> Double {
        gamma(10 * m * n)
    }

    /// κ_F(R) = ‖R‖_F·‖R⁻¹‖_F for an upper-triangular R with nonzero diagonal (an upper bound on
    /// the 2-norm condition number, so bounds built from it are safe). R⁻¹ by back-substitution.
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
