import CKernels

/// The states of a batch run through the RNN: a_t and r_t = φ(a_t) for t = 0…T (t = 0 is h0),
/// and outputs y_t for t = 1…T. Storage is time-major with one B×N (or B×O) block per step:
/// a_t of trial b, unit j is `a[(t·B + b)·N + j]`; y_t is `y[((t−1)·B + b)·O + k]`.
public struct Trajectory: Sendable {
    public let steps: Int
    public let trials: Int
    public let units: Int
    public let outputs: Int
    public var a: [Double]
    public var r: [Double]
    public var y: [Double]

    /// a_t of trial b as an array (for tests and diagnostics).
    public func state(_ t: Int, trial b: Int) -> [Double] { Array(a[((t * trials + b) * units)..<((t * trials + b + 1) * units)]) }
    /// y_t (t ≥ 1) of trial b.
    public func output(_ t: Int, trial b: Int) -> [Double] { Array(y[(((t - 1) * trials + b) * outputs)..<(((t - 1) * trials + b + 1) * outputs)]) }
}

extension Trajectory {
    /// A trajectory keeps (T + 1)·B·N states and as many pre-activations: sizes whose trajectory
    /// alone would pass 2²⁸ doubles (2 GiB) are refused up front rather than failing mid-run.
    /// `field` names the option that sets the number of trials.
    public static func checkSize(steps: Int, trials: Int, units: Int, field: ConfigField) throws {
        guard Double(steps + 1) * Double(trials) * Double(units) <= Double(1 << 28) else {
            throw InputError(field, "\(trials) trials × \(units) units × \(steps + 1) steps would need more than 2 GiB per trajectory")
        }
    }
}

extension RNN {
    /// Run the batch forward (<doc:TheModel>), all trials at once:
    ///
    ///     A_t = (1 − α)·A_{t−1} + α·(R_{t−1}·W_recᵀ + X_t·W_inᵀ + 1·b_recᵀ) [+ √α·σ·Ξ_t]
    ///     R_t = φ(A_t),   Y_t = R_t·W_outᵀ + 1·b_outᵀ
    ///
    /// with B×N state blocks A_t. The input drive X·W_inᵀ of all steps is one GEMM, as is the
    /// readout of all steps; the time loop does one B×N·N×N product per step with W_rec packed
    /// once (`PackedMatrix`), splits the trials between threads, and allocates nothing.
    /// Private noise (σ > 0) is drawn from `RandomStream(seed: noiseSeed, purpose: .noise)`.
    public func run(_ batch: Batch, noiseSeed: UInt64 = 0) -> Trajectory {
        precondition(batch.inputSize == inputs, "batch has \(batch.inputSize) inputs, the model \(inputs)")
        let (T, B, N, I, O) = (batch.steps, batch.trials, units, inputs, outputs)
        let p = parameters
        // Every entry is written before it is read: block 0 from h0, blocks 1…T by the input
        // GEMM (or zeroed without inputs), the recurrence, φ and the readout.
        var a = [Double](uninitializedCount: (T + 1) * B * N)
        var r = [Double](uninitializedCount: (T + 1) * B * N)
        var y = [Double](uninitializedCount: T * B * O)
        let alpha = self.alpha, phi = activation
        var noise = RandomStream(seed: noiseSeed, purpose: .noise)
        let noiseScale = alpha.squareRoot() * noiseSD

        a.withUnsafeMutableBufferPointer { ap in
            r.withUnsafeMutableBufferPointer { rp in
                let a = ap.baseAddress!, r = rp.baseAddress!
                for b in 0..<B { for j in 0..<N { a[b * N + j] = p.h0[j]; r[b * N + j] = phi(p.h0[j]) } }
                guard T > 0 else { return }
                // Input drive of every step at once, into the a_1…a_T blocks: A_t ← X_t·W_inᵀ.
                if I > 0 {
                    batch.inputs.withUnsafeBufferPointer { x in
                        p.wIn.storage.withUnsafeBufferPointer { w in
                            BLAS.gemm(.none, .transposed, m: T * B, n: N, k: I, alpha: 1, a: x.baseAddress!, lda: I,
                                      b: w.baseAddress!, ldb: I, beta: 0, c: a + B * N, ldc: N)
                        }
                    }
                } else {
                    (a + B * N).initialize(repeating: 0, count: T * B * N)
                }
                // The recurrence, trial by trial independent: with private noise one thread draws
                // it in the order above for all trials; without, the trials are split between
                // threads, each running every step on its own rows.
                let recurrent = PackedMatrix(p.wRec)
                p.bRec.withUnsafeBufferPointer { bias in
                    func recurrence(_ trials: Range<Int>, noise: UnsafeMutablePointer<RandomStream>?) {
                        let offset = trials.lowerBound * N, rows = trials.count
                        for t in 1...T {
                            let cur = a + t * B * N + offset, prev = a + (t - 1) * B * N + offset
                            biornn_leak(prev, cur, bias.baseAddress!, alpha, rows, N)   // A_t ← (1 − α)·A_{t−1} + α·(A_t + b_rec)
                            // A_t += α·R_{t−1}·W_recᵀ
                            recurrent.accumulate(rows: rows, alpha: alpha, r + (t - 1) * B * N + offset, ldr: N, into: cur, ldc: N)
                            if let noise { for idx in 0..<(rows * N) { cur[idx] += noiseScale * noise.pointee.normal() } }
                            phi.apply(cur, to: r + t * B * N + offset, count: rows * N)
                        }
                    }
                    if noiseScale > 0 {
                        recurrence(0..<B, noise: &noise)
                    } else {
                        ThreadSplit.run(B, work: Double(T * B) * Double(N * N)) { recurrence($0, noise: nil) }
                    }
                }
                // Readout of every step at once: Y = R_{1…T}·W_outᵀ + b_out.
                y.withUnsafeMutableBufferPointer { yp in
                    let y = yp.baseAddress!
                    for row in 0..<(T * B) { for k in 0..<O { y[row * O + k] = p.bOut[k] } }
                    p.wOut.storage.withUnsafeBufferPointer { w in
                        BLAS.gemm(.none, .transposed, m: T * B, n: O, k: N, alpha: 1, a: r + B * N, lda: N,
                                  b: w.baseAddress!, ldb: N, beta: 1, c: y, ldc: O)
                    }
                }
            }
        }
        return Trajectory(steps: T, trials: B, units: N, outputs: O, a: a, r: r, y: y)
    }
}
