import CKernels
import Foundation
import Synchronization

/// Re-orthonormalises a block of k tangent vectors in ℝⁿ (k ≤ n) the way Lyapunov spectra and
/// flossing windows do every step: V = Q·R with QᵀQ = I and R upper triangular with R_ii > 0, by
/// CholeskyQR2 (Fukaya, Nakatsukasa, Yanagisawa & Yamamoto 2014), falling back to Householder
/// (`HouseholderQR`) when V is too ill-conditioned for it (<doc:Numerics#Re-orthonormalisation>).
/// The block is held as Vᵀ, a row-major k×n `Matrix` with one tangent vector per row, which is
/// LAPACK's column-major V.
///
/// One round of CholeskyQR is three level-3 operations:
///
///     G = VᵀV  (biornn_gram),   G = UᵀU  (biornn_cholesky),   Q = V·U⁻¹  (biornn_triangular_solve)
///
/// Its Q loses orthogonality like κ(V)²·ε, so a second round on Q₁ repairs it: Q₁ = Q₂·U₂, and
/// V = Q₂·(U₂·U₁), R = U₂·U₁, R_ii = (U₂)_ii·(U₁)_ii. The second round's factor measures the
/// first round's error: Q₁ᵀQ₁ = U₂ᵀU₂, so ‖U₂ − I‖_F ≤ 0.1 bounds ‖Q₁ᵀQ₁ − I‖₂ by 0.21, κ(Q₁)² by
/// 1.6, and the second round's loss of orthogonality by a small multiple of (nk + k²)·ε
/// (Yamamoto et al. 2015). The fallback rule is therefore:
///
/// - either Cholesky factorisation fails (a pivot is not positive, or NaN: G is not numerically
///   positive definite, κ(V) ≳ ε^(−1/2)), or
/// - ‖U₂ − I‖_F > 0.1,
///
/// and then V, which the first round leaves in place and the second overwrites only once U₂ has
/// passed, is factored by Householder. The tests check ‖QᵀQ − I‖ ≤ 1e-12 at every step of
/// chaotic, ordered and saturated networks and that the fallback fires on a saturated α = 1
/// network (Tests/NumericsTests/CholeskyQRTests.swift).
///
/// Unlike Householder at k ≤ 32 (LAPACK's unblocked, level-2 dgeqr2 + dorg2r) it uses level-3
/// operations only, and it needs no transposes: the kernels read the block as it is stored. All
/// three are CKernels' own rather than OpenBLAS's dsyrk and dtrsm and LAPACK's dpotrf, which ran
/// far below the dgemm peak at these sizes; each of their entries is a fixed sequence of
/// operations, so they give the same bits on every CPU (measurements in
/// <doc:Performance#Re-orthonormalisation>). Above `ThreadSplit`'s threshold (k = N = 256, not
/// k = 32) the Gram matrix and the solve split their columns between threads, which cannot change
/// a bit: every entry is computed whole by one thread. So does the Cholesky factorisation, in
/// halves of its rows, the second half's earlier terms subtracted panel by panel while the first
/// is factored (`factorGram`), with every entry's operations in the same order as on one thread.
public final class CholeskyQR2 {
    public let dimension: Int
    public let count: Int
    /// How many factorisations fell back to Householder since this object was made.
    public private(set) var fallbacks = 0

    /// Row stride of the k×k triangles: at least k + 31 (`biornn_cholesky` works on whole blocks
    /// of 32 columns), rounded up to 8.
    private let stride: Int
    private var gram: [Double]       // G, then U (row-major upper, row stride `stride`)
    private var first: [Double]      // U₁
    private var firstQ: [Double]     // Q₁, the first round's result (V stays in the block)
    private let householder: HouseholderQR
    private var householderBlock: Matrix   // the fallback's n×k operand
    private var householderR: Matrix

    /// The fallback threshold on ‖U₂ − I‖_F (see the type's documentation).
    public static let secondRoundTolerance = 0.1

    public init(dimension n: Int, count k: Int) {
        precondition(k >= 1 && n >= k, "CholeskyQR2 needs n ≥ k ≥ 1, got n = \(n), k = \(k)")
        BLAS.useOwnThreads()
        (dimension, count) = (n, k)
        stride = (k + 31 + 7) / 8 * 8
        gram = Array(repeating: 0, count: k * stride)   // zeros: the padding stays zero
        first = gram
        firstQ = Array(repeating: 0, count: n * k)
        householder = HouseholderQR(rows: n, cols: k)
        householderBlock = Matrix(rows: n, cols: k)
        householderR = Matrix(rows: k, cols: k)
    }

    /// Vᵀ ← Qᵀ in place; log R_ii into `logDiagonal` (k values). The spectrum needs nothing else.
    public func orthonormalize(_ block: inout Matrix, logDiagonal: inout [Double]) {
        let k = count
        if factor(&block) {
            for i in 0..<k { logDiagonal[i] = log(gram[i * stride + i]) + log(first[i * stride + i]) }
        } else {
            for i in 0..<k { logDiagonal[i] = log(householderR.storage[i * k + i]) }
        }
    }

    /// Vᵀ ← Qᵀ in place and R (k×k, row-major, upper) into `r`.
    public func orthonormalize(_ block: inout Matrix, r: inout Matrix) {
        let k = count
        precondition(r.rows == k && r.cols == k, "R is \(r.rows)×\(r.cols), expected \(k)×\(k)")
        guard factor(&block) else { r = householderR; return }
        // R = U₂·U₁, both upper triangular: R_ij = Σ_{i≤l≤j} U₂_il·U₁_lj.
        for i in 0..<k {
            for j in 0..<k {
                var s = 0.0
                if j >= i { for l in i...j { s += gram[i * stride + l] * first[l * stride + j] } }
                r.storage[i * k + j] = s
            }
        }
    }

    /// Runs CholeskyQR2 on `block`; true if it was accepted (U₂ in `gram`, U₁ in `first`), false
    /// after the Householder fallback (R in `householderR`). Either way `block` holds Q. The first
    /// round writes Q₁ beside V, and the second writes Q over V only once U₂ has passed the test,
    /// so V is still there for the fallback without a copy.
    private func factor(_ block: inout Matrix) -> Bool {
        let (n, k) = (dimension, count)
        precondition(block.rows == k && block.cols == n,
                     "the block is \(block.rows)×\(block.cols), this factorisation is for k = \(k) vectors of n = \(n)")
        let accepted = block.storage.withUnsafeMutableBufferPointer { vp in
            firstQ.withUnsafeMutableBufferPointer { qp in
                let (v, q1) = (vp.baseAddress!, qp.baseAddress!)
                guard choleskyOfGram(v) else { return false }
                solve(v, into: q1)
                swap(&first, &gram)   // U₁ kept; the next round overwrites gram's upper triangle
                guard choleskyOfGram(q1) else { return false }
                var deviation = 0.0
                for i in 0..<k { for j in i..<k { let d = gram[i * stride + j] - (i == j ? 1 : 0); deviation += d * d } }
                guard deviation.squareRoot() <= Self.secondRoundTolerance else { return false }
                solve(q1, into: v)
                return true
            }
        }
        if !accepted {
            fallbacks += 1
            householderFactor(into: &block)
        }
        return accepted
    }

    /// G = VᵀV, then G = UᵀU with U into `gram`; false if the Cholesky factorisation fails.
    private func choleskyOfGram(_ v: UnsafePointer<Double>) -> Bool {
        let (n, k, ld) = (dimension, count, stride)
        return gram.withUnsafeMutableBufferPointer { gp in
            let g = gp.baseAddress!
            // G = VᵀV, its columns split between threads as evenly as its tiles are.
            let parts = max(1, min(BLAS.threadCount, (k + 3) / 4))
            ThreadSplit.run(parts, work: Self.kernelWork(n, k)) { range in
                for part in range {
                    let (first, last) = (Self.gramColumn(part, of: parts, k), Self.gramColumn(part + 1, of: parts, k))
                    if first < last { biornn_gram(k, n, v, first, last, g, ld) }
                }
            }
            return factorGram(g)
        }
    }

    /// G = UᵀU in place in `gram` (at `g`); false if a pivot fails. Above `ThreadSplit`'s threshold
    /// (k³/6 multiply-adds: k = 256, not 32) on two threads: the caller factors the first half of
    /// the rows, 32 at a time, publishing each panel; the helper subtracts every published panel's
    /// terms from the second half's rows (`biornn_cholesky_update`), then factors them. Every
    /// entry gets the operations, in the order, that one thread gives it (Kernels.h): the same bits.
    private func factorGram(_ g: UnsafeMutablePointer<Double>) -> Bool {
        let (k, ld) = (count, stride)
        let half = k / 2 / Self.panel * Self.panel
        guard BLAS.threadCount > 1, half > 0, ThreadSplit.splits(work: Double(k) * Double(k) * Double(k) / 6) else {
            return biornn_cholesky(k, g, ld) == 0
        }
        let published = Atomic<Int>(0)   // rows of the first half factored, or −1 once a pivot failed
        nonisolated(unsafe) var firstFailed = false, secondFailed = false
        let split = ThreadSplit.concurrently(2) { part in
            if part == 0 {
                for p0 in Swift.stride(from: 0, to: half, by: Self.panel) {
                    guard biornn_cholesky_rows(k, g, ld, p0, p0 + Self.panel, 0) == 0 else {
                        firstFailed = true
                        published.store(-1, ordering: .releasing)
                        return
                    }
                    published.store(p0 + Self.panel, ordering: .releasing)
                }
            } else {
                var done = 0
                while done < half {
                    var ready = published.load(ordering: .acquiring)
                    while ready == done { biornn_spin_pause(); ready = published.load(ordering: .acquiring) }
                    guard ready > 0 else { return }
                    biornn_cholesky_update(k, g, ld, half, k, done, ready)
                    done = ready
                }
                secondFailed = biornn_cholesky_rows(k, g, ld, half, k, half) != 0
            }
        }
        guard split else { return biornn_cholesky(k, g, ld) == 0 }
        return !firstFailed && !secondFailed
    }

    /// Rows of U the first thread publishes at a time.
    private static let panel = 32

    /// Q = V·U⁻¹ with U in `gram`, on blocks of 32 coordinates split between threads.
    private func solve(_ v: UnsafePointer<Double>, into q: UnsafeMutablePointer<Double>) {
        let (n, k, ld) = (dimension, count, stride)
        gram.withUnsafeBufferPointer { u in
            ThreadSplit.run((n + 31) / 32, work: Self.kernelWork(n, k)) { blocks in
                biornn_triangular_solve(k, n, u.baseAddress!, ld, 32 * blocks.lowerBound, min(32 * blocks.upperBound, n), v, q)
            }
        }
    }

    /// True when the factorisation keeps to the calling thread (below `ThreadSplit`'s threshold),
    /// so that a caller may use the other threads meanwhile.
    public var runsOnOneThread: Bool { !ThreadSplit.splits(work: Self.kernelWork(dimension, count)) }

    /// Each of the two kernels does about n·k²/2 multiply-adds.
    private static func kernelWork(_ n: Int, _ k: Int) -> Double { Double(n) * Double(k) * Double(k) / 2 }

    /// Where part p of `parts` starts in the Gram matrix's columns: column block c (4 columns) has
    /// c + 1 tiles, so the first x of the k/4 blocks hold about (x/(k/4))² of them, and the parts
    /// start at √(p/parts) of the blocks (a multiple of 4, k at the end).
    private static func gramColumn(_ part: Int, of parts: Int, _ k: Int) -> Int {
        guard part < parts else { return k }
        let blocks = Double((k + 3) / 4)
        return min(4 * Int((blocks * (Double(part) / Double(parts)).squareRoot()).rounded()), k)
    }

    /// The fallback: Householder QR of V (still in `block`), Q into `block`, R into `householderR`.
    private func householderFactor(into block: inout Matrix) {
        let (n, k) = (dimension, count)
        for c in 0..<k { for j in 0..<n { householderBlock.storage[j * k + c] = block.storage[c * n + j] } }
        householder.orthonormalize(&householderBlock, r: &householderR)
        for c in 0..<k { for j in 0..<n { block.storage[c * n + j] = householderBlock.storage[j * k + c] } }
    }
}
