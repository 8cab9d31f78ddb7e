import CKernels
/// A discrete-time dynamical system x_{t+1} = f_t(x_t) that can also apply its Jacobian
/// J_t(x) = ∂f_t/∂x to a block of tangent vectors. Lyapunov analysis needs nothing else, so the
/// same estimators serve the RNN, linear maps and the classic reference systems.
///
/// Maps are classes so that they can keep scratch buffers: `step` and `applyJacobian` are
/// called once per time step and should not allocate.
public protocol DynamicalMap: AnyObject {
    var dimension: Int { get }
    /// An initial state drawn from `rng` (the `initialCondition` stream of the analysis).
    func initialState(using rng: inout RandomStream) -> [Double]
    /// x ← f_t(x).
    func step(_ x: inout [Double], time t: Int)
    /// Q ← J_t(x)·Q for a row-major dimension×k tangent block Q; x is the state before the step.
    func applyJacobian(at x: [Double], time t: Int, to q: inout Matrix)
    /// The same with the tangent vectors as the rows of a k×dimension block Qᵀ: Qᵀ ← (J_t(x)·Q)ᵀ.
    /// Spectra and flossing windows keep their blocks this way, as ``CholeskyQR2`` factors them.
    func applyJacobian(at x: [Double], time t: Int, toRows q: inout Matrix)
}

extension DynamicalMap {
    /// By transposing around `applyJacobian(at:time:to:)`, for maps without a faster way.
    public func applyJacobian(at x: [Double], time t: Int, toRows q: inout Matrix) {
        var columns = q.transposed
        applyJacobian(at: x, time: t, to: &columns)
        q = columns.transposed
    }
}

/// The RNN of <doc:TheModel> as a map on its pre-activations a (noise off):
///
///     f_t(a) = (1 − α)·a + α·(W_rec·φ(a) + W_in·x_t + b_rec)
///     J_t(a) = (1 − α)·I + α·W_rec·diag(φ'(a))
///
/// Inputs x_t are zero (autonomous) or the given sequence, repeated if the analysis runs longer.
/// The initial state is h0 + N(0, 1) noise per unit.
public final class RNNMap: DynamicalMap {
    public let model: RNN
    /// Input sequence, steps × I (row-major); empty: autonomous.
    public let inputs: Matrix
    private var drive: [Double]       // W_in·x_t + b_rec
    private var rates: [Double]       // φ(a)
    private var slopes: [Double]      // φ'(a)
    private var scaled: [Double] = []  // (diag(φ'(a))·Q)ᵀ, k×N
    private var transposedBlock = Matrix(rows: 0, cols: 0)   // Qᵀ for the column-layout entry point
    private let packedRecurrent: PackedMatrix   // W_rec, for the step's W_rec·φ(a) and J·Q's W_rec·(D·Q)

    public init(_ model: RNN, inputs: Matrix? = nil) {
        self.model = model
        self.inputs = inputs ?? Matrix(rows: 0, cols: model.inputs)
        precondition(self.inputs.cols == model.inputs, "input sequence has \(self.inputs.cols) channels, the model \(model.inputs)")
        drive = Array(repeating: 0, count: model.units)
        packedRecurrent = PackedMatrix(model.parameters.wRec)
        rates = drive
        slopes = drive
    }

    /// The map driven by the first trial of a batch.
    public convenience init(_ model: RNN, drivenBy batch: Batch) {
        let first = batch.trial(0)
        self.init(model, inputs: Matrix(rows: first.steps, cols: first.inputSize, storage: first.inputs))
    }

    public var dimension: Int { model.units }

    public func initialState(using rng: inout RandomStream) -> [Double] {
        model.parameters.h0.map { $0 + rng.normal() }
    }

    /// f_t(a), its W_rec·φ(a) by the packed kernel of the Jacobian products: the same bits on every
    /// CPU, unlike OpenBLAS's dgemv, and one copy of W_rec in the core's cache rather than two
    /// (<doc:Performance#Trajectory-steps>).
    public func step(_ a: inout [Double], time t: Int) {
        let n = dimension, alpha = model.alpha, phi = model.activation, p = model.parameters
        let row = inputs.rows > 0 && inputs.cols > 0 ? t % inputs.rows : nil
        a.withUnsafeMutableBufferPointer { a in
            rates.withUnsafeMutableBufferPointer { r in
                drive.withUnsafeMutableBufferPointer { d in
                    phi.apply(a.baseAddress!, to: r.baseAddress!, count: n)
                    for j in 0..<n { d[j] = p.bRec[j] }
                    if let row {
                        for j in 0..<n { for i in 0..<inputs.cols { d[j] += p.wIn[j, i] * inputs[row, i] } }
                    }
                    packedRecurrent.accumulate(rows: 1, alpha: 1, r.baseAddress!, ldr: n, into: d.baseAddress!, ldc: n)
                    for j in 0..<n { a[j] = (1 - alpha) * a[j] + alpha * d[j] }
                }
            }
        }
    }

    /// J·Q = (1 − α)·Q + α·W_rec·(D·Q), D = diag(φ'(a)), computed with the tangent vectors as rows
    /// (`applyJacobian(at:time:toRows:)`) between two transposes.
    public func applyJacobian(at a: [Double], time t: Int, to q: inout Matrix) {
        let (n, k) = (q.rows, q.cols)
        if transposedBlock.rows != k { transposedBlock = Matrix(rows: k, cols: n) }
        q.storage.withUnsafeBufferPointer { qp in
            transposedBlock.storage.withUnsafeMutableBufferPointer { biornn_transpose(qp.baseAddress!, k, $0.baseAddress!, n, n, k) }
        }
        applyJacobian(at: a, time: t, toRows: &transposedBlock)
        transposedBlock.storage.withUnsafeBufferPointer { tp in
            q.storage.withUnsafeMutableBufferPointer { biornn_transpose(tp.baseAddress!, n, $0.baseAddress!, k, k, n) }
        }
    }

    /// (J·Q)ᵀ = (1 − α)·Qᵀ + α·(D·Q)ᵀ·W_recᵀ on the k×N block Qᵀ in place: the recurrence's kernel
    /// with W_rec packed once for the map's life rather than by OpenBLAS on every step, and the k
    /// tangent vectors split between threads as trials are.
    public func applyJacobian(at a: [Double], time t: Int, toRows q: inout Matrix) {
        let (k, n) = (q.rows, q.cols), alpha = model.alpha, phi = model.activation
        precondition(n == dimension, "the tangent block is \(k)×\(n), the map's dimension \(dimension)")
        if scaled.count != n * k { scaled = [Double](repeating: 0, count: n * k) }
        phi.derivatives(of: a, into: &slopes)
        let (slopes, packed) = (self.slopes, packedRecurrent)
        q.storage.withUnsafeMutableBufferPointer { qp in
            scaled.withUnsafeMutableBufferPointer { sp in
                let (p, s) = (qp.baseAddress!, sp.baseAddress!)
                slopes.withUnsafeBufferPointer { d in
                    ThreadSplit.run(k, work: Double(n * n) * Double(k)) { rows in
                        let (q, dq) = (p + rows.lowerBound * n, s + rows.lowerBound * n)
                        biornn_jacobian_operands(rows.count, n, alpha, d.baseAddress!, q, dq)   // (D·Q)ᵀ; (1 − α)·Qᵀ
                        packed.accumulate(rows: rows.count, alpha: alpha, dq, ldr: n, into: q, ldc: n)
                    }
                }
            }
        }
    }
}
