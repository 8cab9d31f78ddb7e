import Foundation
import CKernels
import COpenBLAS

/// Householder QR of a tall or square matrix with explicit thin Q, by LAPACK (dgeqrf + dorgqr).
///
/// For A (m×n, m ≥ n): A = Q·R with Q m×n, QᵀQ = I, and R n×n upper triangular. The
/// factorisation is made unique by choosing diag(R) ≥ 0: where LAPACK returns R_jj < 0, column j
/// of Q and row j of R change sign (QR is unchanged). Lyapunov analysis reads log|R_jj| from it.
///
/// One workspace serves every factorisation of its shape, so repeated use (once per time step in
/// the QR method) allocates nothing.
public final class HouseholderQR {
    public let rows: Int
    public let cols: Int
    private var columnMajor: [Double]   // A, then LAPACK's reflectors, then Q — column-major m×n
    private var tau: [Double]
    private var work: [Double]

    public init(rows: Int, cols: Int) {
        BLAS.useOwnThreads()   // before the workspace query's first LAPACK call
        precondition(cols >= 1 && rows >= cols, "QR needs rows ≥ cols ≥ 1, got \(rows)×\(cols)")
        self.rows = rows
        self.cols = cols
        var a = [Double](repeating: 0, count: rows * cols)
        var t = [Double](repeating: 0, count: cols)
        // Workspace queries (lwork = −1) for both routines; keep the larger.
        var m = Int32(rows), n = Int32(cols), lda = Int32(rows), query: Int32 = -1, info: Int32 = 0
        var geqrf = 0.0, orgqr = 0.0
        dgeqrf_(&m, &n, &a, &lda, &t, &geqrf, &query, &info)
        dorgqr_(&m, &n, &n, &a, &lda, &t, &orgqr, &query, &info)
        columnMajor = a
        tau = t
        work = Array(repeating: 0, count: max(Int(max(geqrf, orgqr)), cols, 1))
    }

    /// Factor the row-major m×n matrix at `a` (row stride lda) into row-major `q` (m×n, row
    /// stride ldq) and `r` (n×n, row stride ldr). `q` may alias `a` (in-place orthonormalisation).
    public func factor(
        _ a: UnsafePointer<Double>, lda: Int,
        q: UnsafeMutablePointer<Double>, ldq: Int,
        r: UnsafeMutablePointer<Double>, ldr: Int
    ) {
        let (m, n) = (rows, cols)
        var mm = Int32(m), nn = Int32(n), ld = Int32(m), lwork = Int32(work.count), info: Int32 = 0
        columnMajor.withUnsafeMutableBufferPointer { cm in
            tau.withUnsafeMutableBufferPointer { t in
                work.withUnsafeMutableBufferPointer { w in
                    let c = cm.baseAddress!
                    biornn_transpose(a, lda, c, m, m, n)
                    dgeqrf_(&mm, &nn, c, &ld, t.baseAddress, w.baseAddress, &lwork, &info)
                    precondition(info == 0, "dgeqrf failed with info = \(info)")
                    for i in 0..<n {
                        for j in 0..<n { r[i * ldr + j] = j >= i ? c[i + j * m] : 0 }
                    }
                    dorgqr_(&mm, &nn, &nn, c, &ld, t.baseAddress, w.baseAddress, &lwork, &info)
                    precondition(info == 0, "dorgqr failed with info = \(info)")
                    for j in 0..<n where r[j * ldr + j] < 0 {
                        for jj in j..<n { r[j * ldr + jj] = -r[j * ldr + jj] }
                        for i in 0..<m { c[i + j * m] = -c[i + j * m] }
                    }
                    biornn_transpose(c, m, q, ldq, n, m)
                }
            }
        }
    }

    /// Q ← the Q of Q = Q'·R in place, R into `r` (k×k): the re-orthonormalisation of a tangent
    /// block that Lyapunov spectra and flossing windows do every step, without allocating.
    public func orthonormalize(_ q: inout Matrix, r: inout Matrix) {
        precondition(q.rows == rows && q.cols == cols && r.rows == cols && r.cols == cols,
                     "QR workspace is \(rows)×\(cols), the block \(q.rows)×\(q.cols) and R \(r.rows)×\(r.cols)")
        q.storage.withUnsafeMutableBufferPointer { qp in
            r.storage.withUnsafeMutableBufferPointer { rp in
                factor(UnsafePointer(qp.baseAddress!), lda: cols, q: qp.baseAddress!, ldq: cols, r: rp.baseAddress!, ldr: cols)
            }
        }
    }

    /// Factor a row-major matrix into (Q, R) as new matrices.
    public func factor(_ a: Matrix) -> (q: Matrix, r: Matrix) {
        precondition(a.rows == rows && a.cols == cols, "QR workspace is \(rows)×\(cols), matrix is \(a.rows)×\(a.cols)")
        var q = Matrix(rows: rows, cols: cols)
        var r = Matrix(rows: cols, cols: cols)
        a.storage.withUnsafeBufferPointer { pa in
            q.storage.withUnsafeMutableBufferPointer { pq in
                r.storage.withUnsafeMutableBufferPointer { pr in
                    factor(pa.baseAddress!, lda: cols, q: pq.baseAddress!, ldq: cols, r: pr.baseAddress!, ldr: cols)
                }
            }
        }
        return (q, r)
    }
}

extension Matrix {
    /// A = Q·R with thin Q and diag(R) ≥ 0 (see `HouseholderQR`). Requires rows ≥ cols ≥ 1.
    public var qr: (q: Matrix, r: Matrix) { HouseholderQR(rows: rows, cols: cols).factor(self) }

    /// log|det A| = Σ_i log|R_ii| for square A, from its QR factorisation (−∞ when singular).
    public var logAbsDeterminant: Double {
        precondition(rows == cols, "determinant of a non-square \(rows)×\(cols) matrix")
        return qr.r.diagonal.reduce(0) { $0 + log(abs($1)) }
    }
}
