import Foundation
import CKernels
import COpenBLAS
import Synchronization

/// Whether a BLAS operand enters as itself or transposed: op(A) = A or Aᵀ.
public enum Transpose: Sendable, CaseIterable {
    case none, transposed

    fileprivate var flag: CChar { self == .none ? CChar(UInt8(ascii: "N")) : CChar(UInt8(ascii: "T")) }
}

/// Row-major BLAS on raw storage, calling OpenBLAS's column-major Fortran routines.
///
/// A row-major m×n matrix has the memory of its column-major n×m transpose, so
/// C = op(A)·op(B) (row-major) is computed as Cᵀ = op(B)ᵀ·op(A)ᵀ (column-major): the operands
/// swap places, the transpose flags stay, m and n swap. No data is copied or allocated.
public enum BLAS {
    /// C ← α·op(A)·op(B) + β·C, with op(A) m×k, op(B) k×n, C m×n, all row-major with leading
    /// dimensions (row strides) lda, ldb, ldc. With β = 0, C need not be initialised.
    public static func gemm(
        _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int,
        alpha: Double, a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        guard k > 0 else {  // the BLAS reference leaves C alone for k = 0 only with β = 1: be explicit
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
            return
        }
        // Large products: C's rows (or columns, when it has few rows) split into one block per
        // thread, each block its own single-threaded OpenBLAS call (see `threadCount`). Each block
        // is the product of its own rows (columns), so the whole equals one call's up to rounding
        // (GemmTests holds both to the GSL oracle's budget). 2²² multiply-adds: a second thread
        // woken from Dispatch's pool for one call paid from between 1.3·10⁶ and 5.2·10⁶; the
        // products split here (weight gradients, N ≥ 512 spectra) are far above it, and it was not
        // measured again since `ThreadSplit.parallel`'s helpers spin.
        let threads = threadCount, splitRows = m >= n
        guard threads > 1, Double(m) * Double(n) * Double(k) >= Double(1 << 22),
              (splitRows ? m : n) >= 2 * threads else {
            rawGemm(transA, transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }
        let length = splitRows ? m : n
        nonisolated(unsafe) let (a, b, c) = (a, b, c)   // the blocks of C are disjoint
        ThreadSplit.parallel(threads) { part in
            let lo = part * length / threads, hi = (part + 1) * length / threads
            if splitRows {   // rows lo..<hi of op(A) and of C
                rawGemm(transA, transB, m: hi - lo, n: n, k: k, alpha: alpha, a: transA == .none ? a + lo * lda : a + lo, lda: lda,
                        b: b, ldb: ldb, beta: beta, c: c + lo * ldc, ldc: ldc)
            } else {         // columns lo..<hi of op(B) and of C
                rawGemm(transA, transB, m: m, n: hi - lo, k: k, alpha: alpha, a: a, lda: lda,
                        b: transB == .none ? b + lo : b + lo * ldb, ldb: ldb, beta: beta, c: c + lo, ldc: ldc)
            }
        }
    }

    static func rawGemm(
        _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int,
        alpha: Double, a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        var tb = transB.flag, ta = transA.flag
        var mm = Int32(n), nn = Int32(m), kk = Int32(k)
        var al = alpha, be = beta
        var ldbb = Int32(ldb), ldaa = Int32(lda), ldcc = Int32(ldc)
        dgemm_(&tb, &ta, &mm, &nn, &kk, &al, b, &ldbb, a, &ldaa, &be, c, &ldcc)
    }

    /// y ← α·op(A)·x + β·y, A row-major m×n with row stride lda.
    public static func gemv(
        _ transA: Transpose, m: Int, n: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int,
        x: UnsafePointer<Double>, beta: Double, y: UnsafeMutablePointer<Double>
    ) {
        useOwnThreads()
        guard m > 0, n > 0 else {
            let len = transA == .none ? m : n
            for i in 0..<len { y[i] = beta == 0 ? 0 : beta * y[i] }
            return
        }
        // Row-major A is column-major Aᵀ (n×m): A·x is Aᵀᵀ·x, so the flag flips.
        var flag = (transA == .none ? Transpose.transposed : Transpose.none).flag
        var mm = Int32(n), nn = Int32(m), ldaa = Int32(lda), one: Int32 = 1
        var al = alpha, be = beta
        dgemv_(&flag, &mm, &nn, &al, a, &ldaa, x, &one, &be, y, &one)
    }

    /// A ← A + α·x·yᵀ, A row-major m×n with row stride lda.
    public static func ger(
        m: Int, n: Int, alpha: Double, x: UnsafePointer<Double>, y: UnsafePointer<Double>,
        a: UnsafeMutablePointer<Double>, lda: Int
    ) {
        useOwnThreads()
        guard m > 0, n > 0 else { return }
        // Column-major Aᵀ ← Aᵀ + α·y·xᵀ.
        var mm = Int32(n), nn = Int32(m), ldaa = Int32(lda), one: Int32 = 1, al = alpha
        dger_(&mm, &nn, &al, y, &one, x, &one, a, &ldaa)
    }

    /// The kernel family OpenBLAS chose for this CPU when it loaded (e.g. "SkylakeX", "Haswell").
    public static var coreName: String { String(cString: openblas_get_corename()) }

    /// The OPENBLAS_CORETYPE this process should have been started with, or nil when OpenBLAS's
    /// own choice is right.
    ///
    /// OpenBLAS picks its kernels when it loads, from the CPU model. Debian 12's OpenBLAS 0.3.21
    /// does not know recent Xeons that report themselves generically and falls back to its
    /// Prescott kernels (SSE3), several times slower (<doc:Performance#OpenBLAS-kernels>). When
    /// the choice is Prescott but /proc/cpuinfo lists avx512f (or avx2 and fma), this names the
    /// right family.
    /// OpenBLAS reads OPENBLAS_CORETYPE only at load time, so the caller must restart the process.
    public static func betterCoreType(cpuFlags: Set<Substring>? = nil) -> String? {
        guard coreName == "Prescott", ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil else { return nil }
        let flags = cpuFlags ?? {
            guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
                  let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return [] }
            return Set(line.split(separator: " "))
        }()
        if flags.contains("avx512f") { return "SkylakeX" }
        if flags.contains("avx2") && flags.contains("fma") { return "Haswell" }
        return nil
    }

    /// The threads BioRNN computes on: large products split by rows or columns (`gemm`), recurrences by
    /// trials (`ThreadSplit`). It starts at OpenBLAS's own count (OPENBLAS_NUM_THREADS, else the
    /// cores); OpenBLAS is then set to 1 thread and its idle workers ended, because they spin for
    /// about 0.1 s (2²⁸ cycles, its THREAD_TIMEOUT) after starting and after every threaded call,
    /// and so take a core from any other thread of the process; nor did OpenBLAS's threads pay
    /// in LAPACK's QR (<doc:Performance#Threads>).
    ///
    /// The first read happens before any OpenBLAS call (`gemm`, `gemv`, `ger`, QR and eigenvalues
    /// read it first), under Swift's once-only initialisation, so no call is running then.
    public static var threadCount: Int {
        get { threads.load(ordering: .relaxed) }
        set { threads.store(max(newValue, 1), ordering: .relaxed) }
    }

    private static let threads = Atomic<Int>(takeOverThreads())

    private static func takeOverThreads() -> Int {
        let count = Int(openblas_get_num_threads())
        openblas_set_num_threads(1)
        _ = blas_thread_shutdown_()
        return max(count, 1)
    }

    /// Turns OpenBLAS's threads off before a LAPACK call (whose BLAS calls would use them); `gemm`
    /// does so by reading `threadCount`.
    static func useOwnThreads() { _ = threadCount }

    /// Runs `body` with OpenBLAS's own threads (BioRNN's count of them): for measuring the
    /// machine's dgemm peak as OpenBLAS reaches it. BioRNN's other threads must be idle meanwhile.
    public static func withOpenBLASThreads<R>(_ body: () throws -> R) rethrows -> R {
        openblas_set_num_threads(Int32(threadCount))
        defer {
            openblas_set_num_threads(1)
            _ = blas_thread_shutdown_()   // or its workers would spin through the next 0.1 s
        }
        return try body()
    }
}

extension Matrix {
    /// C ← α·op(A)·op(B) + β·C into an existing matrix of the right shape (no allocation).
    public static func gemm(
        _ transA: Transpose, _ a: Matrix, _ transB: Transpose, _ b: Matrix,
        into c: inout Matrix, alpha: Double = 1, beta: Double = 0
    ) {
        let (m, k) = transA == .none ? (a.rows, a.cols) : (a.cols, a.rows)
        let (kb, n) = transB == .none ? (b.rows, b.cols) : (b.cols, b.rows)
        precondition(k == kb, "gemm: inner dimensions \(k) and \(kb) differ")
        precondition(c.rows == m && c.cols == n, "gemm: C is \(c.rows)×\(c.cols), expected \(m)×\(n)")
        guard m > 0, n > 0 else { return }
        guard k > 0 else { c.storage = c.storage.map { beta == 0 ? 0 : beta * $0 }; return }
        let ldc = c.cols
        a.storage.withUnsafeBufferPointer { pa in
            b.storage.withUnsafeBufferPointer { pb in
                c.storage.withUnsafeMutableBufferPointer { pc in
                    BLAS.gemm(transA, transB, m: m, n: n, k: k, alpha: alpha,
                              a: pa.baseAddress!, lda: max(a.cols, 1), b: pb.baseAddress!, ldb: max(b.cols, 1),
                              beta: beta, c: pc.baseAddress!, ldc: max(ldc, 1))
                }
            }
        }
    }

    /// C ← α·A·B + β·C into an existing matrix of the right shape (no allocation).
    public static func gemm(_ a: Matrix, _ b: Matrix, into c: inout Matrix, alpha: Double = 1, beta: Double = 0) {
        gemm(.none, a, .none, b, into: &c, alpha: alpha, beta: beta)
    }

    /// op(A)·op(B) as a new matrix.
    public static func product(_ transA: Transpose, _ a: Matrix, _ transB: Transpose, _ b: Matrix) -> Matrix {
        let m = transA == .none ? a.rows : a.cols
        let n = transB == .none ? b.cols : b.rows
        // gemm with β = 0 writes every entry (zeros for an empty inner dimension) without reading
        // C, so C's storage starts unset rather than zero-filled (the T·B×N learning signals of an
        // e-prop step are 6.5 MB).
        var c = Matrix(rows: m, cols: n, storage: [Double](uninitializedCount: m * n))
        gemm(transA, a, transB, b, into: &c)
        return c
    }

    /// A·B as a new matrix.
    public static func * (a: Matrix, b: Matrix) -> Matrix { product(.none, a, .none, b) }

    /// α·Aᵀ·B (n×m) for two tall blocks, A (rows×n) and B (rows×m), row-major with leading
    /// dimensions lda and ldb: Σ over T·B rows of one outer product each, the weight gradient of
    /// W_rec (δ_t r_{t−1}ᵀ, l_t r̄_tᵀ, …), its rows split between threads (`addTransposedProduct`).
    static func transposedProduct(_ a: UnsafePointer<Double>, lda: Int, n: Int, _ b: UnsafePointer<Double>, ldb: Int, m: Int,
                                  rows: Int, alpha: Double) -> Matrix {
        var product = [Double](repeating: 0, count: n * m)
        if rows > 0 && n > 0 && m > 0 {   // an empty product's storage may have no address
            product.withUnsafeMutableBufferPointer { pp in
                let c = pp.baseAddress!
                ThreadSplit.run(n, work: Double(rows) * Double(n) * Double(m)) { part in
                    addTransposedProduct(a, lda: lda, b, ldb: ldb, m: m, rows: rows, alpha: alpha, into: c, ldc: m, rowsOfC: part)
                }
            }
        }
        return Matrix(rows: n, cols: m, storage: product)
    }

    /// C[i, ·] += α·(AᵀB)[i, ·] for the rows i in `rowsOfC`, on the calling thread (A rows×·, B
    /// rows×m, row-major with leading dimensions lda and ldb). Up to `transposedProductLimit`
    /// doubles per row both blocks are read in place (`biornn_transposed_product`), every entry
    /// summing the rows in blocks of 128 in order, so its bits depend on neither the rows of C
    /// computed with it nor the CPU; it replaced an OpenBLAS product whose packing of both blocks
    /// cost a third of it. Wider blocks stay with OpenBLAS, which packs them
    /// (<doc:Performance#The-recurrent-weight-gradient>).
    static func addTransposedProduct(_ a: UnsafePointer<Double>, lda: Int, _ b: UnsafePointer<Double>, ldb: Int, m: Int,
                                     rows: Int, alpha: Double, into c: UnsafeMutablePointer<Double>, ldc: Int, rowsOfC: Range<Int>) {
        if max(lda, ldb) <= transposedProductLimit {
            biornn_transposed_product(rows, alpha, a, lda, rowsOfC.lowerBound, rowsOfC.upperBound, b, ldb, m, c, ldc)
        } else {
            BLAS.rawGemm(.transposed, .none, m: rowsOfC.count, n: m, k: rows, alpha: alpha, a: a + rowsOfC.lowerBound, lda: lda,
                         b: b, ldb: ldb, beta: 1, c: c + rowsOfC.lowerBound * ldc, ldc: ldc)
        }
    }

    /// The longest rows (in doubles) `biornn_transposed_product` reads in place. Beyond 512 (rows
    /// 8 KB or more apart) it was no faster than OpenBLAS, which copies the strips together first:
    /// as fast in a BPTT step at N = 1024, slower at 2048 (<doc:Performance#The-recurrent-weight-gradient>).
    static let transposedProductLimit = 512

    /// α·Xᵀ·A (m×n) and, when `summingColumns`, α·Σ_rows A (n) for a tall A (rows×n, row-major at `a`)
    /// and a tall, narrow X (rows×m, m a handful of columns: the inputs, the outputs): the
    /// weight gradients of the narrow matrices, and of a bias. One pass over A's rows
    /// (`biornn_narrow_products`), split by A's columns between threads, every entry summing
    /// the rows in order, so its bits do not depend on the thread count; it replaced OpenBLAS
    /// products and a separate column sum (<doc:Performance#Narrow-weight-gradients>).
    static func narrowProducts(_ x: UnsafePointer<Double>?, m: Int, _ a: UnsafePointer<Double>, rows: Int, n: Int,
                               alpha: Double, summingColumns: Bool = false) -> (product: Matrix, sums: [Double]) {
        var product = [Double](repeating: 0, count: m * n)
        var sums = [Double](repeating: 0, count: summingColumns ? n : 0)
        if rows > 0 && n > 0 {
            product.withUnsafeMutableBufferPointer { pp in
                sums.withUnsafeMutableBufferPointer { sp in
                    // Each call writes its own columns. An empty array's base address may be
                    // non-nil (shared storage), so no sums is passed as nil, not as the empty array.
                    let (p, s) = (pp.baseAddress, summingColumns ? sp.baseAddress : nil)
                    ThreadSplit.run(n, work: Double(rows) * Double(n) * Double(m + 1)) { cols in
                        biornn_narrow_products(x, m, a, n, rows, cols.lowerBound, cols.upperBound, p, n, s)
                    }
                }
            }
        }
        if alpha != 1 {
            for idx in product.indices { product[idx] *= alpha }
            for idx in sums.indices { sums[idx] *= alpha }
        }
        return (Matrix(rows: m, cols: n, storage: product), sums)
    }

    /// op(A)·x as a new vector.
    public func times(_ x: [Double], _ trans: Transpose = .none) -> [Double] {
        let (outLen, inLen) = trans == .none ? (rows, cols) : (cols, rows)
        precondition(x.count == inLen, "matrix-vector: vector has \(x.count) entries, expected \(inLen)")
        var y = [Double](repeating: 0, count: outLen)
        guard rows > 0, cols > 0 else { return y }
        storage.withUnsafeBufferPointer { pa in
            x.withUnsafeBufferPointer { px in
                y.withUnsafeMutableBufferPointer { py in
                    BLAS.gemv(trans, m: rows, n: cols, alpha: 1, a: pa.baseAddress!, lda: max(cols, 1),
                              x: px.baseAddress!, beta: 0, y: py.baseAddress!)
                }
            }
        }
        return y
    }

    /// A ← A + α·x·yᵀ.
    public mutating func addOuterProduct(_ x: [Double], _ y: [Double], alpha: Double = 1) {
        precondition(x.count == rows && y.count == cols, "outer product: \(x.count)×\(y.count) into \(rows)×\(cols)")
        let (m, n) = (rows, cols)
        guard m > 0, n > 0 else { return }
        x.withUnsafeBufferPointer { px in
            y.withUnsafeBufferPointer { py in
                storage.withUnsafeMutableBufferPointer { pa in
                    BLAS.ger(m: m, n: n, alpha: alpha, x: px.baseAddress!, y: py.baseAddress!, a: pa.baseAddress!, lda: max(n, 1))
                }
            }
        }
    }
}
