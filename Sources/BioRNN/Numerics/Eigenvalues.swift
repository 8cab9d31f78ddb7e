import COpenBLAS
import Foundation

extension Matrix {
    /// Eigenvalues (re, im) of a square matrix by LAPACK dgeev (no eigenvectors).
    public var eigenvalues: [(re: Double, im: Double)] {
        precondition(rows == cols, "eigenvalues of a non-square matrix")
        let n = rows
        guard n > 0 else { return [] }
        BLAS.useOwnThreads()
        var a = transposed.storage   // column-major copy (dgeev overwrites it)
        var wr = [Double](repeating: 0, count: n), wi = wr
        var nn = Int32(n), lda = Int32(n), ldv: Int32 = 1, info: Int32 = 0, query: Int32 = -1
        var no = CChar(UInt8(ascii: "N"))
        var vl = 0.0, vr = 0.0, size = 0.0
        dgeev_(&no, &no, &nn, &a, &lda, &wr, &wi, &vl, &ldv, &vr, &ldv, &size, &query, &info, 1, 1)
        var work = [Double](repeating: 0, count: max(Int(size), 4 * n))
        var lwork = Int32(work.count)
        dgeev_(&no, &no, &nn, &a, &lda, &wr, &wi, &vl, &ldv, &vr, &ldv, &work, &lwork, &info, 1, 1)
        precondition(info == 0, "dgeev failed with info = \(info)")
        return (0..<n).map { (wr[$0], wi[$0]) }
    }

    /// max_i |μ_i|.
    public var spectralRadius: Double { eigenvalues.reduce(0) { max($0, hypot($1.re, $1.im)) } }
}
