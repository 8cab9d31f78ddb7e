import BioRNN
import BioRNNTesting
import Foundation
import PropertyBased
import Testing

/// A tall or square m×n Gaussian matrix (m ≥ n) from a seed.
struct QRCase: Sendable, CustomStringConvertible {
    let m: Int, n: Int, seed: UInt64
    var description: String { "QRCase(m: \(m), n: \(n), seed: \(seed))" }
    func matrix() -> Matrix { var rng = RandomStream(seed: seed); return .randomNormal(rows: m, cols: n, sd: 1, using: &rng) }
}

let qrCases = zip(dimension, dimension, Gen<UInt64>.value()).map { a, b, seed in QRCase(m: max(a, b), n: min(a, b), seed: seed) }
let squareCases = zip(Gen.int(in: 1...64), Gen<UInt64>.value()).map { n, seed in QRCase(m: n, n: n, seed: seed) }

@Suite("Householder QR (LAPACK) against GSL")
struct QRTests {
    @Test("Q has orthonormal columns: ‖QᵀQ − I‖_F ≤ 1e-13·n")
    func orthonormality() async {
        // Householder Q is orthonormal to O(m·n·u) ≈ 1e-15·mn in norm; for n ≤ 96 the bound
        // 1e-13·n is a factor of ~10 above that worst case, and 100× above typical values.
        await propertyCheck(count: 150, input: qrCases) { c in
            let (q, _) = c.matrix().qr
            let defect = Matrix.product(.transposed, q, .none, q) - .identity(c.n)
            #expect(defect.frobeniusNorm <= 1e-13 * Double(c.n))
        }
    }

    @Test("Q·R reproduces A within the backward error γ̃_{mn}‖A‖_F; R is upper triangular with diag ≥ 0")
    func reproduces() async {
        await propertyCheck(count: 150, input: qrCases) { c in
            let a = c.matrix()
            let (q, r) = a.qr
            #expect((q * r - a).frobeniusNorm <= ErrorBudget.householderQRBackward(rows: c.m, cols: c.n) * a.frobeniusNorm)
            for i in 0..<c.n {
                #expect(r[i, i] >= 0)
                for j in 0..<i { #expect(r[i, j] == 0) }
            }
        }
    }

    @Test("|diag R| equals GSL's within √2·κ_F(R)·(backward error of both)·‖A‖_F")
    func diagonalMatchesGSL() async throws {
        // Both factorisations are backward stable; QR perturbation theory (Sun 1991) bounds
        // ‖ΔR‖_F ≤ √2·κ₂(A)·‖ΔA‖_F, and κ_F(R) ≥ κ₂(A) since A = QR with orthonormal Q.
        await propertyCheck(count: 150, input: qrCases) { c in
            let a = c.matrix()
            let ours = a.qr.r.diagonal
            let gsl = try GSL.qr(a).r.diagonal.map(abs)
            let tol = 2.0.squareRoot() * ErrorBudget.frobeniusCondition(upperTriangular: a.qr.r)
                * 2 * ErrorBudget.householderQRBackward(rows: c.m, cols: c.n) * a.frobeniusNorm
            for i in 0..<c.n { #expect(abs(ours[i] - gsl[i]) <= tol, "R[\(i),\(i)]: \(ours[i]) vs GSL \(gsl[i])") }
        }
    }

    @Test("log|det A| from QR equals GSL's LU within κ_F(A)·(backward errors of QR and LU)")
    func logDeterminant() async throws {
        // d log|det A| = tr(A⁻¹ dA), so |Δ| ≤ ‖A⁻¹‖_F‖ΔA‖_F = κ_F(A)·‖ΔA‖_F/‖A‖_F. QR's backward error is
        // γ̃_{n²}; LU with partial pivoting on Gaussian matrices has growth factor O(n^{1/2}) in practice,
        // so its backward error is taken as γ_{10n²}·√n (Higham Thm 9.5 with the observed growth).
        await propertyCheck(count: 150, input: squareCases) { c in
            let a = c.matrix()
            let kappa = ErrorBudget.frobeniusCondition(upperTriangular: a.qr.r)
            let backward = ErrorBudget.householderQRBackward(rows: c.n, cols: c.n) + ErrorBudget.gamma(10 * c.n * c.n) * Double(c.n).squareRoot()
            let gsl = try GSL.logAbsDeterminant(a)
            #expect(abs(a.logAbsDeterminant - gsl) <= kappa * backward)
        }
    }

    @Test("closed forms: diagonal, orthogonal and triangular matrices")
    func closedForms() throws {
        let d = Matrix.diagonal([2, -3, 0.5])
        #expect(d.qr.r.diagonal == [2, 3, 0.5])
        #expect(abs(d.logAbsDeterminant - log(3.0)) <= 4 * Double.ulpOfOne)
        let theta = 0.3
        let rotation = Matrix([[cos(theta), -sin(theta)], [sin(theta), cos(theta)]])
        // |det| = 1 exactly; R = I up to a few roundings of the Householder reflector.
        #expect(abs(rotation.logAbsDeterminant) <= 8 * Double.ulpOfOne)
        let oneByOne = Matrix([[-7.0]]).qr
        #expect(oneByOne.q == Matrix([[-1.0]]) && oneByOne.r == Matrix([[7.0]]))
    }

    @Test("in-place factorisation through one reused workspace gives the same factors")
    func workspaceReuse() {
        var rng = RandomStream(seed: 7)
        let workspace = HouseholderQR(rows: 20, cols: 6)
        for _ in 0..<3 {
            let a = Matrix.randomNormal(rows: 20, cols: 6, sd: 1, using: &rng)
            var inPlace = a
            var r = Matrix(rows: 6, cols: 6)
            inPlace.withUnsafeMutableEntries { p in
                r.withUnsafeMutableEntries { pr in
                    workspace.factor(UnsafePointer(p.baseAddress!), lda: 6, q: p.baseAddress!, ldq: 6, r: pr.baseAddress!, ldr: 6)
                }
            }
            let fresh = a.qr
            #expect(inPlace == fresh.q && r == fresh.r)
        }
    }
}
