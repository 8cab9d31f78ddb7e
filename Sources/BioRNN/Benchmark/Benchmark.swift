import Foundation

/// The workloads of `biornn bench` (<doc:CommandLine>) and of the JAX reference in `benchmarks/`: one
/// seeded problem per size, the FLOPs each workload is credited with, and a median timer.
///
/// The problem: N units, Gaussian W_rec with g = 1.5, tanh, α = 0.1, I = 4 inputs, O = 2
/// outputs (network seed 1); a batch of B trials × T steps with N(0, 1) inputs and targets, mse,
/// every step masked in (data seed 1). `--save DIR` writes it as model.json and batch.json so
/// that another implementation can run exactly the same numbers.
public enum Benchmark {
    public enum Workload: String, CaseIterable, Sendable {
        /// One training step: forward, BPTT gradient, Adam update.
        case bptt
        /// One training step with e-prop (symmetric feedback).
        case eprop
        /// The first k Lyapunov exponents by the QR method over T steps (QR every step), autonomous.
        case lyapunov
        /// One full gradient-flossing step: record a T-step window of k exponents, differentiate
        /// through it and every QR, update W_rec and b_rec by Adam.
        case floss
        /// One local gradient-flossing step: the same window, the local gradient.
        case flossLocal = "floss-local"
        /// One N×N×N dgemm: the machine's BLAS peak, for scale.
        case dgemm
        /// The forward pass alone (the trajectory every training step starts from): a floor under
        /// the bptt and eprop steps.
        case forward
        /// One re-orthonormalisation of a k×N block (CholeskyQR2, as every step of `lyapunov`
        /// does): T of them are a floor under the spectrum.
        case qr
        /// One Jacobian product J·Q on the k×N block of tangent vectors (as every step of
        /// `lyapunov` does): T of them, with T re-orthonormalisations, are a floor under the spectrum.
        case jacobian
    }

    public static let inputs = 4, outputs = 2, alpha = 0.1, gain = 1.5

    public static func model(units n: Int) -> RNN {
        RNN.initial(units: n, inputs: inputs, outputs: outputs, alpha: alpha, activation: .tanh,
                    connectivity: .gaussian(gain: gain), seed: 1)
    }

    public static func batch(steps t: Int, trials b: Int) -> Batch {
        var rng = RandomStream(seed: 1, purpose: .data)
        let x = (0..<(t * b * inputs)).map { _ in rng.normal() }
        let y = (0..<(t * b * outputs)).map { _ in rng.normal() }
        return Batch(steps: t, trials: b, inputSize: inputs, inputs: x, targets: y, targetSize: outputs)
    }

    /// The spectrum's starting point: x_0 ~ N(0, 1) and Q_0 from the QR of a Gaussian N×k block.
    public static func lyapunovStart(units n: Int, k: Int) -> (state: [Double], basis: Matrix) {
        var rng = RandomStream(seed: 1, purpose: .initialCondition)
        let x = (0..<n).map { _ in rng.normal() }
        var orng = RandomStream(seed: 1, purpose: .orthonormal)
        return (x, Matrix.randomNormal(rows: n, cols: k, sd: 1, using: &orng).qr.q)
    }

    /// The FLOPs a workload is credited with: its matrix products and factorisations only
    /// (elementwise work — tanh, the leak, Adam — is not counted, so GFLOP/s is a lower bound).
    ///
    ///     bptt      6TBN² + 4TBNI + 6TBNO     forward W_rec·r, W_in·x, W_out·r; backward δ·W_rec, G·W_out;
    ///                                         ∂W_rec, ∂W_in, ∂W_out (2 FLOPs per multiply-add)
    ///     eprop     4TBN² + 4TBNI + 6TBNO     forward; L = G·W_out; ∂W_rec = Lᵀ·R̄, ∂W_in, ∂W_out
    ///     lyapunov  T·(2N²k + 4Nk² + 2k³/3)   J·Q, then CholeskyQR2: two rounds of the Gram matrix
    ///                                         (Nk²), Cholesky (k³/3) and the triangular solve (Nk²)
    ///     floss     2 × lyapunov              the window forward, and its adjoint about as much again
    ///     floss-local  2 × lyapunov           the same window, and the local gradient
    ///     dgemm     2N³
    ///     forward   2TBN² + 2TBNI + 2TBNO     W_rec·r, W_in·x, W_out·r
    ///     qr        4Nk² + 2k³/3              CholeskyQR2
    ///     jacobian  2N²k                      W_rec·(D·Q)
    public static func flops(_ w: Workload, n: Int, t: Int, b: Int, k: Int) -> Double {
        let (N, T, B, K) = (Double(n), Double(t), Double(b), Double(k))
        let (I, O) = (Double(inputs), Double(outputs))
        switch w {
        case .bptt: return 6 * T * B * N * N + 4 * T * B * N * I + 6 * T * B * N * O
        case .eprop: return 4 * T * B * N * N + 4 * T * B * N * I + 6 * T * B * N * O
        case .lyapunov: return T * (2 * N * N * K + 4 * N * K * K + 2 * K * K * K / 3)
        case .floss, .flossLocal: return 2 * T * (2 * N * N * K + 4 * N * K * K + 2 * K * K * K / 3)
        case .dgemm: return 2 * N * N * N
        case .forward: return 2 * T * B * N * N + 2 * T * B * N * I + 2 * T * B * N * O
        case .qr: return 4 * N * K * K + 2 * K * K * K / 3
        case .jacobian: return 2 * N * N * K
        }
    }

    /// One unit of the workload, ready to repeat (state such as the optimiser carries over).
    public static func work(_ w: Workload, n: Int, t: Int, b: Int, k: Int) throws -> () throws -> Void {
        var net = model(units: n)
        switch w {
        case .bptt, .eprop:
            let data = batch(steps: t, trials: b)
            let rule: any LearningRule = w == .bptt ? BPTT() : EProp()
            var optimizer = Optimizer(OptimizerConfig())
            return {
                let step = rule.gradient(of: net, on: data)
                optimizer.update(&net.parameters, with: step.gradients)
            }
        case .lyapunov:
            let start = lyapunovStart(units: n, k: k)
            let options = LyapunovOptions(transient: 0, steps: t, qrEvery: 1)
            try options.validate(dimension: n, k: k)
            return { _ = try Lyapunov.spectrum(of: RNNMap(net), k: k, options: options, start: start) }
        case .floss, .flossLocal:
            var config = FlossingConfig(mode: w == .floss ? .full : .local)
            (config.k, config.window, config.transient) = (k, t, 0)
            try config.validate()
            try Lyapunov.checkExponentCount(k, units: n)
            var flosser = Flosser(config, seed: 1)
            return { try flosser.floss(&net, steps: 1) }
        case .forward:
            let data = batch(steps: t, trials: b)
            return { _ = net.run(data) }
        case .qr:
            var rng = RandomStream(seed: 1, purpose: .network)
            let block = Matrix.randomNormal(rows: k, cols: n, sd: 1, using: &rng)
            let qr = CholeskyQR2(dimension: n, count: k)
            var q = block, logs = [Double](repeating: 0, count: k)
            return {
                _ = q.storage.withUnsafeMutableBufferPointer { $0.update(from: block.storage) }
                qr.orthonormalize(&q, logDiagonal: &logs)
            }
        case .jacobian:
            let start = lyapunovStart(units: n, k: k), map = RNNMap(net)
            let block = start.basis.transposed
            var q = block
            return {
                _ = q.storage.withUnsafeMutableBufferPointer { $0.update(from: block.storage) }
                map.applyJacobian(at: start.state, time: 0, toRows: &q)
            }
        case .dgemm:
            var rng = RandomStream(seed: 1, purpose: .network)
            let a = Matrix.randomNormal(rows: n, cols: n, sd: 1, using: &rng)
            let bm = Matrix.randomNormal(rows: n, cols: n, sd: 1, using: &rng)
            var c = Matrix(rows: n, cols: n)
            // OpenBLAS's own threading, not BioRNN's split (`BLAS.threadCount`): the peak as
            // OpenBLAS reaches it.
            return {
                BLAS.withOpenBLASThreads {
                    a.storage.withUnsafeBufferPointer { pa in
                        bm.storage.withUnsafeBufferPointer { pb in
                            c.storage.withUnsafeMutableBufferPointer { pc in
                                BLAS.rawGemm(.none, .none, m: n, n: n, k: n, alpha: 1, a: pa.baseAddress!, lda: n,
                                             b: pb.baseAddress!, ldb: n, beta: 0, c: pc.baseAddress!, ldc: n)
                            }
                        }
                    }
                }
            }
        }
    }

    /// Median wall time in seconds of `repeats` calls after `warmup` untimed ones.
    public static func medianSeconds(warmup: Int, repeats: Int, _ body: () throws -> Void) rethrows -> (median: Double, all: [Double]) {
        for _ in 0..<warmup { try body() }
        var times: [Double] = []
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let sorted = times.sorted()
        let mid = sorted.count / 2
        return (sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2, times)
    }
}
