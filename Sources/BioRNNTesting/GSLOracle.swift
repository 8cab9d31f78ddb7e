import BioRNN
import CGSL
import Foundation

/// A failed GSL call: the function's name and GSL's status code and message.
public struct GSLError: Error, CustomStringConvertible {
    public let function: String
    public let status: Int32
    public var description: String { "\(function): GSL error \(status) (\(String(cString: gsl_strerror(status))))" }
}

/// GSL's default error handler aborts the process; the oracle turns it off once and checks every
/// status code instead.
private let gslErrorHandlerIsOff: Void = { _ = gsl_set_error_handler_off() }()

private func check(_ status: Int32, _ function: String) throws {
    if status != Int32(GSL_SUCCESS) { throw GSLError(function: function, status: status) }
}

/// A complex eigenvalue.
public struct ComplexValue: Sendable, Equatable {
    public let re: Double
    public let im: Double
    public var magnitude: Double { hypot(re, im) }
}

/// The independent numerical oracle: GSL's implementations of what BioRNN computes with
/// OpenBLAS/LAPACK and its own code. Each wrapper owns and frees its GSL memory.
public enum GSL {
    // MARK: matrices

    /// A GSL copy of `m` (GSL refuses zero-sized matrices, so neither dimension may be 0).
    ///
    /// GSL's linear algebra calls the process's CBLAS, OpenBLAS's, whose threads BioRNN turns off
    /// at the first read of `BLAS.threadCount`, ending them: a GSL call inside one of them then
    /// would wait for it forever (a test hung so, its GSL Cholesky factorisation beside another
    /// test's first BioRNN call). So the oracle reads it first, too.
    private static func withGSLMatrix<T>(_ m: Matrix, _ body: (UnsafeMutablePointer<gsl_matrix>) throws -> T) throws -> T {
        _ = gslErrorHandlerIsOff
        _ = BLAS.threadCount
        precondition(m.rows > 0 && m.cols > 0, "GSL matrices cannot be empty")
        guard let g = gsl_matrix_alloc(m.rows, m.cols) else { throw GSLError(function: "gsl_matrix_alloc", status: Int32(GSL_ENOMEM)) }
        defer { gsl_matrix_free(g) }
        for i in 0..<m.rows { for j in 0..<m.cols { gsl_matrix_set(g, i, j, m[i, j]) } }
        return try body(g)
    }

    private static func matrix(_ g: UnsafePointer<gsl_matrix>, rows: Int, cols: Int) -> Matrix {
        var m = Matrix(rows: rows, cols: cols)
        for i in 0..<rows { for j in 0..<cols { m[i, j] = gsl_matrix_get(g, i, j) } }
        return m
    }

    /// Eigenvalues of a general real square matrix (`gsl_eigen_nonsymm`), in GSL's order.
    public static func eigenvalues(_ a: Matrix) throws -> [ComplexValue] {
        precondition(a.rows == a.cols, "eigenvalues of a non-square matrix")
        let n = a.rows
        return try withGSLMatrix(a) { g in
            guard let eval = gsl_vector_complex_alloc(n) else { throw GSLError(function: "gsl_vector_complex_alloc", status: Int32(GSL_ENOMEM)) }
            defer { gsl_vector_complex_free(eval) }
            guard let work = gsl_eigen_nonsymm_alloc(n) else { throw GSLError(function: "gsl_eigen_nonsymm_alloc", status: Int32(GSL_ENOMEM)) }
            defer { gsl_eigen_nonsymm_free(work) }
            try check(gsl_eigen_nonsymm(g, eval, work), "gsl_eigen_nonsymm")
            return (0..<n).map { i in
                let z = gsl_vector_complex_get(eval, i)
                return ComplexValue(re: biornn_gsl_complex_real(z), im: biornn_gsl_complex_imag(z))
            }
        }
    }

    /// Householder QR (`gsl_linalg_QR_decomp` + `gsl_linalg_QR_unpack`) of an m×n matrix, m ≥ n:
    /// thin Q (m×n) and R (n×n), in GSL's sign convention (diag R may be negative).
    public static func qr(_ a: Matrix) throws -> (q: Matrix, r: Matrix) {
        let (m, n) = (a.rows, a.cols)
        precondition(m >= n, "QR oracle expects rows ≥ cols")
        return try withGSLMatrix(a) { g in
            guard let tau = gsl_vector_alloc(n), let q = gsl_matrix_alloc(m, m), let r = gsl_matrix_alloc(m, n) else {
                throw GSLError(function: "gsl_*_alloc", status: Int32(GSL_ENOMEM))
            }
            defer { gsl_vector_free(tau); gsl_matrix_free(q); gsl_matrix_free(r) }
            try check(gsl_linalg_QR_decomp(g, tau), "gsl_linalg_QR_decomp")
            try check(gsl_linalg_QR_unpack(g, tau, q, r), "gsl_linalg_QR_unpack")
            return (matrix(q, rows: m, cols: n), matrix(r, rows: n, cols: n))
        }
    }

    /// The Cholesky factor U (upper, A = UᵀU) of a symmetric positive definite matrix
    /// (`gsl_linalg_cholesky_decomp1`, which leaves L = Uᵀ in the lower triangle).
    public static func cholesky(_ a: Matrix) throws -> Matrix {
        precondition(a.rows == a.cols, "Cholesky of a non-square matrix")
        let n = a.rows
        return try withGSLMatrix(a) { g in
            try check(gsl_linalg_cholesky_decomp1(g), "gsl_linalg_cholesky_decomp1")
            let l = matrix(g, rows: n, cols: n)
            return Matrix(rows: n, cols: n, storage: (0..<(n * n)).map { $0 / n <= $0 % n ? l[$0 % n, $0 / n] : 0 })
        }
    }

    /// log|det A| by LU decomposition with partial pivoting (`gsl_linalg_LU_decomp`, `_lndet`).
    public static func logAbsDeterminant(_ a: Matrix) throws -> Double {
        precondition(a.rows == a.cols, "determinant of a non-square matrix")
        return try withGSLMatrix(a) { g in
            guard let p = gsl_permutation_alloc(a.rows) else { throw GSLError(function: "gsl_permutation_alloc", status: Int32(GSL_ENOMEM)) }
            defer { gsl_permutation_free(p) }
            var signum: Int32 = 0
            try check(gsl_linalg_LU_decomp(g, p, &signum), "gsl_linalg_LU_decomp")
            return gsl_linalg_LU_lndet(g)
        }
    }

    /// C ← α·op(A)·op(B) + β·C by GSL's own CBLAS (libgslcblas), never OpenBLAS.
    ///
    /// `gsl_blas_dgemm` is a shape check in front of a global `cblas_dgemm` call; in a process
    /// that also loads OpenBLAS that call may bind to OpenBLAS (both export the symbol). So the
    /// oracle performs the same shape check and calls the `cblas_dgemm` found inside
    /// libgslcblas itself. `Tests/NumericsTests/OracleIndependenceTests` proves the two differ.
    public static func gemm(
        _ transA: Transpose = .none, _ a: Matrix, _ transB: Transpose = .none, _ b: Matrix,
        adding c: Matrix? = nil, alpha: Double = 1, beta: Double = 0
    ) -> Matrix {
        let (m, k) = transA == .none ? (a.rows, a.cols) : (a.cols, a.rows)
        let (kb, n) = transB == .none ? (b.rows, b.cols) : (b.cols, b.rows)
        precondition(k == kb, "gemm oracle: inner dimensions differ")
        var out = c ?? Matrix(rows: m, cols: n)
        precondition(out.rows == m && out.cols == n, "gemm oracle: C has the wrong shape")
        guard m > 0, n > 0, k > 0 else { return beta * out }
        let fn = gslCBLASDgemm
        let ta = transA == .none ? CblasNoTrans : CblasTrans
        let tb = transB == .none ? CblasNoTrans : CblasTrans
        a.storage.withUnsafeBufferPointer { pa in
            b.storage.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableEntries { pc in
                    fn(CblasRowMajor, ta, tb, Int32(m), Int32(n), Int32(k), alpha, pa.baseAddress, Int32(a.cols),
                       pb.baseAddress, Int32(b.cols), beta, pc.baseAddress, Int32(n))
                }
            }
        }
        return out
    }

    private static let gslCBLASDgemm: biornn_cblas_dgemm_fn = {
        guard let fn = biornn_gslcblas_dgemm() else { fatalError("cannot open libgslcblas.so.0 (install libgsl-dev)") }
        return fn
    }()

    /// The shared object whose code the oracle's dgemm runs.
    public static var dgemmLibrary: String {
        sharedObject(containing: unsafeBitCast(gslCBLASDgemm, to: UnsafeRawPointer.self))
    }

    /// The file mapped at `address` in this process (from /proc/self/maps): which shared object
    /// holds a function's code.
    public static func sharedObject(containing address: UnsafeRawPointer) -> String {
        let target = UInt(bitPattern: address)
        // /proc files report size 0, so read the handle to its end rather than by file size.
        guard let handle = FileHandle(forReadingAtPath: "/proc/self/maps"),
              let maps = String(data: handle.readDataToEndOfFile(), encoding: .utf8) else { return "" }
        for line in maps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6 else { continue }
            let bounds = fields[0].split(separator: "-")
            guard bounds.count == 2, let lo = UInt(bounds[0], radix: 16), let hi = UInt(bounds[1], radix: 16) else { continue }
            if lo <= target && target < hi { return fields[5...].joined(separator: " ") }
        }
        return ""
    }

    // MARK: distributions

    /// I_x(a, b), `gsl_sf_beta_inc`.
    public static func incompleteBeta(_ a: Double, _ b: Double, _ x: Double) -> Double { gsl_sf_beta_inc(a, b, x) }
    /// P(T ≤ t) for Student's t with ν degrees of freedom, `gsl_cdf_tdist_P`.
    public static func studentTCDF(_ t: Double, _ nu: Double) -> Double { gsl_cdf_tdist_P(t, nu) }
    /// The t with P(T ≤ t) = p, `gsl_cdf_tdist_Pinv`.
    public static func studentTQuantile(_ p: Double, _ nu: Double) -> Double { gsl_cdf_tdist_Pinv(p, nu) }

    // MARK: calculus

    /// Central finite difference f'(x) with GSL's adaptive 5-point rule (`gsl_deriv_central`),
    /// initial step h. Returns the estimate and GSL's estimate of its absolute error.
    public static func derivative(at x: Double, step h: Double, of f: (Double) -> Double) throws -> (value: Double, error: Double) {
        _ = gslErrorHandlerIsOff
        return try withGSLFunction(f) { function in
            var result = 0.0, abserr = 0.0
            try check(gsl_deriv_central(function, x, h, &result, &abserr), "gsl_deriv_central")
            return (result, abserr)
        }
    }

    /// ∫_{−∞}^{∞} f(x) dx by `gsl_integration_qagi` to the requested tolerances.
    public static func integrateOverRealLine(
        epsAbs: Double = 1e-13, epsRel: Double = 1e-12, _ f: (Double) -> Double
    ) throws -> (value: Double, error: Double) {
        _ = gslErrorHandlerIsOff
        let limit = 1000
        guard let workspace = gsl_integration_workspace_alloc(limit) else { throw GSLError(function: "gsl_integration_workspace_alloc", status: Int32(GSL_ENOMEM)) }
        defer { gsl_integration_workspace_free(workspace) }
        return try withGSLFunction(f) { function in
            var result = 0.0, abserr = 0.0
            try check(gsl_integration_qagi(function, epsAbs, epsRel, limit, workspace, &result, &abserr), "gsl_integration_qagi")
            return (result, abserr)
        }
    }

    /// A `gsl_function` that calls the Swift closure `f` for the duration of `body`.
    private static func withGSLFunction<T>(_ f: (Double) -> Double, _ body: (UnsafeMutablePointer<gsl_function>) throws -> T) throws -> T {
        try withoutActuallyEscaping(f) { f in
            var closure = f
            return try withUnsafeMutablePointer(to: &closure) { box in
                var function = gsl_function(
                    function: { x, params in params!.assumingMemoryBound(to: ((Double) -> Double).self).pointee(x) },
                    params: UnsafeMutableRawPointer(box))
                return try body(&function)
            }
        }
    }
}

/// An ODE system dy/dt = f(t, y) integrated by GSL's adaptive Runge–Kutta–Prince–Dormand (8,9)
/// (`gsl_odeiv2_step_rk8pd` through a `gsl_odeiv2_driver`), for continuous-time reference systems.
public final class GSLODEIntegrator {
    /// f(t, y, dy/dt): writes the derivative into the third argument.
    public typealias RightHandSide = (Double, UnsafePointer<Double>, UnsafeMutablePointer<Double>) -> Void

    private final class Box { let f: RightHandSide; init(_ f: @escaping RightHandSide) { self.f = f } }

    public let dimension: Int
    private let box: Box
    private var system: gsl_odeiv2_system
    private let driver: OpaquePointer

    public init(dimension: Int, initialStep: Double = 1e-3, epsAbs: Double = 1e-12, epsRel: Double = 1e-12,
                rightHandSide: @escaping RightHandSide) {
        _ = gslErrorHandlerIsOff
        self.dimension = dimension
        box = Box(rightHandSide)
        system = gsl_odeiv2_system(
            function: { t, y, dydt, params in
                Unmanaged<Box>.fromOpaque(params!).takeUnretainedValue().f(t, y!, dydt!)
                return Int32(GSL_SUCCESS)
            },
            jacobian: nil, dimension: dimension, params: Unmanaged.passUnretained(box).toOpaque())
        driver = withUnsafePointer(to: &system) { sys in
            OpaquePointer(gsl_odeiv2_driver_alloc_y_new(sys, biornn_gsl_step_rk8pd(), initialStep, epsAbs, epsRel)!)
        }
    }

    deinit { gsl_odeiv2_driver_free(UnsafeMutablePointer(driver)) }

    /// Advance y from time t to t1 (t is updated to t1).
    public func advance(_ y: inout [Double], time t: inout Double, to t1: Double) throws {
        precondition(y.count == dimension, "ODE state has \(y.count) entries, system has \(dimension)")
        try check(gsl_odeiv2_driver_apply(UnsafeMutablePointer(driver), &t, t1, &y), "gsl_odeiv2_driver_apply")
    }
}

