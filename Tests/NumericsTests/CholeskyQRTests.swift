import BioRNN
import BioRNNTesting
import CKernels
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

    /// At k = 192 (k³/6 above ThreadSplit's threshold) the Cholesky factorisation runs on two
    /// threads when there are two: the caller's rows 0…95, the helper's 96…191. A zero column
    /// makes that column's pivot exactly 0, in either half: the factorisation must stop there on
    /// both threads and fall back, never wait for a panel that will not come.
    @Test("a pivot failing in either thread's half of the Cholesky factorisation falls back to Householder, orthonormal")
    func fallbackOnTwoThreads() {
        for zero in [1, 150] {
            var a = conditionedBlock(rows: 200, cols: 192, condition: 10, seed: 5)
            for i in 0..<200 { a[i, zero] = 0 }
            let (q, r, fallbacks) = choleskyQR2(a)
            #expect(fallbacks == 1, "column \(zero) zero")
            let defect = Matrix.product(.transposed, q, .none, q) - .identity(192)
            #expect(defect.frobeniusNorm <= CholeskyQRBudget.orthogonality(rows: 200, cols: 192), "column \(zero) zero")
            #expect((q * r - a).frobeniusNorm <= CholeskyQRBudget.residual(rows: 200, cols: 192) * a.frobeniusNorm)
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

/// CholeskyQR2's three kernels on their own, against GSL and against the formulas in Kernels.h
/// written out one entry at a time: k from 1 to 13 covers whole 4×4 tiles and every remainder,
/// n from 1 to 100 the vector loops' tails (and blocks narrower than one vector); the k×k
/// triangles are stored with a row stride ld > k, as CholeskyQR2 stores them.
@Suite("CholeskyQR2's Gram, Cholesky and triangular-solve kernels")
struct CholeskyKernelTests {
    @Test("Gram matrix: upper triangle equals GSL's V·Vᵀ within 2·γ_{n+2}·|V||V|ᵀ and dot rows' sums bit for bit")
    func gram() async {
        // Half the lengths are whole vectors (multiples of 8), where whole tiles add their lanes as vectors.
        let lengths = Gen.frequency((weight: 1, gen: Gen.int(in: 1...100)), (weight: 1, gen: Gen.int(in: 1...12).map { 8 * $0 }))
        await propertyCheck(count: 100, input: Gen.int(in: 1...13), lengths, Gen<UInt64>.value()) { k, n, seed in
            var rng = RandomStream(seed: seed)
            let v = Matrix.randomNormal(rows: k, cols: n, sd: 1, using: &rng)
            let ld = k + 3
            var g = [Double](repeating: .nan, count: k * ld)
            v.storage.withUnsafeBufferPointer { vp in g.withUnsafeMutableBufferPointer { biornn_gram(k, n, vp.baseAddress!, 0, k, $0.baseAddress!, ld) } }
            let zero = Matrix(rows: k, cols: k)
            let oracle = GSL.gemm(.none, v, .transposed, v)
            let budget = ErrorBudget.gemm(.none, v, .transposed, v, c0: nil, alpha: 1, beta: 0)
            let sums = dotRows(v, v, c0: zero, rowBlocks: [k])   // 0 + s = s: the same bits as the sums themselves
            var outside = 0, differing = 0
            for j in 0..<k {
                for i in 0...j {
                    if abs(g[i * ld + j] - oracle[i, j]) > budget[i, j] { outside += 1 }
                    if g[i * ld + j] != sums[i, j] { differing += 1 }
                }
            }
            #expect(outside == 0, "\(outside) entries outside the rounding budget (k = \(k), n = \(n))")
            #expect(differing == 0, "\(differing) entries differ from dot rows' (k = \(k), n = \(n))")
            // Columns split at a multiple of 4, as between threads: the same bits.
            let cut = 4 * Int(UInt64(seed) % UInt64((k + 3) / 4 + 1))
            var split = [Double](repeating: .nan, count: k * ld)
            v.storage.withUnsafeBufferPointer { vp in
                split.withUnsafeMutableBufferPointer {
                    biornn_gram(k, n, vp.baseAddress!, 0, min(cut, k), $0.baseAddress!, ld)
                    biornn_gram(k, n, vp.baseAddress!, min(cut, k), k, $0.baseAddress!, ld)
                }
            }
            let moved = (0..<k).flatMap { j in (0...j).map { i in i * ld + j } }.filter { split[$0] != g[$0] }.count
            #expect(moved == 0, "\(moved) entries differ with the columns split at \(cut) (k = \(k), n = \(n))")
        }
    }

    /// Forward substitution with one more rounding (the reciprocal's product): the computed Q
    /// satisfies Q·(U + ΔU) = V with |ΔU| ≤ γ_{k+1}·|U| (Higham, Thm 8.5), so |Q·U − V| ≤
    /// γ_{k+1}·|Q||U|, and GSL's product Q·U adds at most γ_k·|Q||U|: 2·γ_{k+2}·|Q||U| covers both.
    @Test("triangular solve: Q·U equals V within 2·γ_{k+2}·|Q||U| (GSL's product), and the formula row by row bit for bit")
    func triangularSolve() async {
        await propertyCheck(count: 100, input: Gen.int(in: 1...13), Gen.int(in: 1...100), Gen<UInt64>.value()) { k, n, seed in
            var rng = RandomStream(seed: seed)
            let v = Matrix.randomNormal(rows: k, cols: n, sd: 1, using: &rng)
            // U upper triangular, row-major with row stride ld (u[l·ld + i] = U_li), diagonal in
            // [0.5, 2]: well conditioned.
            let ld = k + 2
            var u = [Double](repeating: 0, count: k * ld)
            for i in 0..<k {
                for l in 0..<i { u[l * ld + i] = rng.normal() * 0.3 }
                u[i * ld + i] = rng.uniform(0.5, 2)
            }
            // Out of place (as CholeskyQR2's first round), into NaNs so that an entry left unwritten shows.
            var q = Matrix(rows: k, cols: n, storage: Array(repeating: .nan, count: k * n))
            v.storage.withUnsafeBufferPointer { vp in
                q.withUnsafeMutableEntries { qp in u.withUnsafeBufferPointer { biornn_triangular_solve(k, n, $0.baseAddress!, ld, 0, n, vp.baseAddress!, qp.baseAddress!) } }
            }
            // The formula of Kernels.h, one entry at a time.
            var formula = v
            for j in 0..<n {
                for i in 0..<k {
                    var s = v[i, j]
                    for l in 0..<i { s = s.addingProduct(-u[l * ld + i], formula[l, j]) }   // one fused multiply-add
                    formula[i, j] = s * (1 / u[i * ld + i])
                }
            }
            let upper = Matrix(rows: k, cols: k, storage: (0..<(k * k)).map { u[($0 / k) * ld + $0 % k] })
            // Row i of the block is q_i, so V = Q·U reads v_i = Σ_l U_li·q_l: the block Uᵀ·Q.
            let residual = GSL.gemm(.transposed, upper, .none, q)
            let bound = ErrorBudget.gemm(.transposed, upper, .none, q, c0: nil, alpha: 1, beta: 0)
            var outside = 0
            for i in 0..<k { for j in 0..<n where abs(residual[i, j] - v[i, j]) > bound[i, j] { outside += 1 } }
            #expect(outside == 0, "\(outside) entries outside the rounding budget (k = \(k), n = \(n))")
            let differing = zip(q.storage, formula.storage).filter { $0 != $1 }.count
            #expect(differing == 0, "\(differing) entries differ from the formula's (k = \(k), n = \(n))")
            // Columns split anywhere, as between threads (at a multiple of 32 there), and in place
            // (as the second round): the same bits.
            let cut = Int(UInt64(seed) % UInt64(n + 1))
            var split = v
            split.withUnsafeMutableEntries { sp in
                u.withUnsafeBufferPointer {
                    biornn_triangular_solve(k, n, $0.baseAddress!, ld, 0, cut, sp.baseAddress!, sp.baseAddress!)
                    biornn_triangular_solve(k, n, $0.baseAddress!, ld, cut, n, sp.baseAddress!, sp.baseAddress!)
                }
            }
            let moved = zip(q.storage, split.storage).filter { $0 != $1 }.count
            #expect(moved == 0, "\(moved) entries differ in place with the columns split at \(cut) (k = \(k), n = \(n))")
        }
    }

    /// biornn_cholesky on a k×k triangle stored with row stride ld: 0, or 1 + the first failing row.
    private func factor(_ a: inout [Double], k: Int, ld: Int) -> Int {
        a.withUnsafeMutableBufferPointer { biornn_cholesky(k, $0.baseAddress!, ld) }
    }

    @Test("Cholesky: UᵀU = G within γ_{k+1}·|Uᵀ||U|, U equals GSL's within the perturbation bound and the formula bit for bit, also in two parts; fails at the first non-positive pivot")
    func cholesky() async {
        // k up to 70: several 4-row blocks, rows of one to three 32-column blocks, every remainder.
        await propertyCheck(count: 60, input: Gen.int(in: 1...70), Gen<UInt64>.value()) { k, seed in
            var rng = RandomStream(seed: seed)
            let v = Matrix.randomNormal(rows: k, cols: k + 8, sd: 1, using: &rng)
            let g = GSL.gemm(.none, v, .transposed, v)   // symmetric positive definite
            let ld = k + 31                                // the least row stride Kernels.h allows
            var a = [Double](repeating: 0, count: k * ld)
            for i in 0..<k { for j in i..<k { a[i * ld + j] = g[i, j] } }
            let start = a
            #expect(factor(&a, k: k, ld: ld) == 0, "k = \(k)")
            let u = Matrix(rows: k, cols: k, storage: (0..<(k * k)).map { $0 / k <= $0 % k ? a[($0 / k) * ld + $0 % k] : 0 })

            // Backward error (Higham, Thm 10.3): UᵀU = G + ΔG with |ΔG| ≤ γ_{k+1}·|Uᵀ||U|; forming
            // UᵀU here (GSL's CBLAS) adds at most 2·γ_{k+2}·|Uᵀ||U| more.
            let product = GSL.gemm(.transposed, u, .none, u)
            let bound = ErrorBudget.gemm(.transposed, u, .none, u, c0: nil, alpha: 1, beta: 0)
            let absolute = Matrix(rows: k, cols: k, storage: u.storage.map { abs($0) })
            let magnitudes = GSL.gemm(.transposed, absolute, .none, absolute)
            var outside = 0
            // |Uᵀ||U| is itself computed: the exact one is at most (1 + 2·γ_k) times it.
            let backward = ErrorBudget.gamma(k + 1) * (1 + 2 * ErrorBudget.gamma(k))
            for i in 0..<k { for j in 0..<k where abs(product[i, j] - g[i, j]) > bound[i, j] + backward * magnitudes[i, j] { outside += 1 } }
            #expect(outside == 0, "\(outside) entries of UᵀU − G outside the budget (k = \(k))")

            // GSL's factor is the exact one of another G + ΔG; to first order (Sun 1991) two such
            // factors differ by ‖ΔU‖_F ≤ √2·κ₂(G)·(‖ΔG‖_F / ‖G‖₂)·‖U‖₂ each, and with ‖ΔG‖_F ≤
            // γ_{k+1}·‖U‖_F², κ₂(G) ≤ κ_F(U)², ‖U‖_F² / ‖U‖₂ ≤ √k·‖U‖_F: both together 2·√2·κ_F(U)²·γ_{k+1}·√k·‖U‖_F.
            let oracle = try GSL.cholesky(g)
            let tolerance = 2 * 2.0.squareRoot() * pow(ErrorBudget.frobeniusCondition(upperTriangular: u), 2)
                * ErrorBudget.gamma(k + 1) * Double(k).squareRoot() * u.frobeniusNorm
            #expect((u - oracle).frobeniusNorm <= tolerance, "k = \(k)")

            // The formula of Kernels.h, one entry at a time.
            var formula = Matrix(rows: k, cols: k)
            for j in 0..<k {
                for i in j..<k {
                    var s = g[j, i]
                    for l in 0..<j { s = s.addingProduct(-formula[l, j], formula[l, i]) }   // one fused multiply-add
                    formula[j, i] = i == j ? s.squareRoot() : s * (1 / formula[j, j])
                }
            }
            let differing = zip(u.storage, formula.storage).filter { $0 != $1 }.count
            #expect(differing == 0, "\(differing) entries differ from the formula's (k = \(k))")

            // In two parts, as two threads factor it (CholeskyQR2 at k ≥ 184): rows above a cut (a
            // multiple of 4) in panels, the rest updated panel by panel and then factored. The same
            // bits, entry for entry of the upper triangle.
            let cut = 4 * Int((seed >> 8) % UInt64(k / 4 + 1)), panel = 4 * Int(1 + (seed >> 16) % 4)
            var parts = start
            parts.withUnsafeMutableBufferPointer { p in
                var done = 0
                while done < cut {
                    let next = min(done + panel, cut)
                    #expect(biornn_cholesky_rows(k, p.baseAddress!, ld, done, next, 0) == 0)
                    biornn_cholesky_update(k, p.baseAddress!, ld, cut, k, done, next)
                    done = next
                }
                #expect(biornn_cholesky_rows(k, p.baseAddress!, ld, cut, k, cut) == 0)
            }
            let moved = (0..<k).flatMap { i in (i..<k).map { j in i * ld + j } }.filter { parts[$0] != a[$0] }.count
            #expect(moved == 0, "\(moved) entries differ in two parts cut at \(cut), panels of \(panel) (k = \(k))")

            // A negative diagonal entry at row m fails row m, not an earlier one; a NaN fails too.
            let m = Int(seed % UInt64(k))
            var indefinite = start
            indefinite[m * ld + m] = -1
            #expect(factor(&indefinite, k: k, ld: ld) == m + 1, "k = \(k), m = \(m)")
            var missing = start
            missing[0] = .nan
            #expect(factor(&missing, k: k, ld: ld) == 1, "k = \(k)")
        }
    }
}
