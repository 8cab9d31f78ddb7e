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

extension Matrix {
    /// The eigenvalue of largest modulus and its condition number κ = ‖x‖‖y‖/|yᴴx| (x, y its
    /// right and left eigenvectors; Wilkinson): to first order a perturbation E moves it by at
    /// most κ‖E‖₂. From LAPACK dgeev with both eigenvector sets.
    public var spectralRadiusCondition: (radius: Double, condition: Double) {
        precondition(rows == cols && rows > 0, "eigenvalue condition of a non-square or empty matrix")
        let n = rows
        BLAS.useOwnThreads()
        var a = transposed.storage
        var wr = [Double](repeating: 0, count: n), wi = wr
        var vl = [Double](repeating: 0, count: n * n), vr = vl
        var nn = Int32(n), lda = Int32(n), ldv = Int32(n), info: Int32 = 0, query: Int32 = -1
        var yes = CChar(UInt8(ascii: "V"))
        var size = 0.0
        dgeev_(&yes, &yes, &nn, &a, &lda, &wr, &wi, &vl, &ldv, &vr, &ldv, &size, &query, &info, 1, 1)
        var work = [Double](repeating: 0, count: max(Int(size), 4 * n))
        var lwork = Int32(work.count)
        dgeev_(&yes, &yes, &nn, &a, &lda, &wr, &wi, &vl, &ldv, &vr, &ldv, &work, &lwork, &info, 1, 1)
        precondition(info == 0, "dgeev failed with info = \(info)")
        let top = (0..<n).max { hypot(wr[$0], wi[$0]) < hypot(wr[$1], wi[$1]) }!
        // dgeev's columns (column-major): a real eigenvalue's vector is column j; a complex pair
        // (j, j + 1) has vector column j ± i·column j + 1, j the first of the pair.
        let first = wi[top] == 0 ? top : (wi[top] > 0 ? top : top - 1)
        func vector(_ v: [Double]) -> [(re: Double, im: Double)] {
            (0..<n).map { i in
                let re = v[first * n + i]
                guard wi[top] != 0 else { return (re, 0) }
                let im = v[(first + 1) * n + i]
                return (re, wi[top] > 0 ? im : -im)
            }
        }
        let x = vector(vr), y = vector(vl)
        // yᴴx = Σ conj(y_i)·x_i
        var dotRe = 0.0, dotIm = 0.0
        for i in 0..<n { dotRe += y[i].re * x[i].re + y[i].im * x[i].im; dotIm += y[i].re * x[i].im - y[i].im * x[i].re }
        let norm = { (v: [(re: Double, im: Double)]) in v.reduce(0) { $0 + $1.re * $1.re + $1.im * $1.im }.squareRoot() }
        return (hypot(wr[top], wi[top]), norm(x) * norm(y) / hypot(dotRe, dotIm))
    }
}
