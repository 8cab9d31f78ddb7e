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
    /// with B×N state blocks A_t. The time loop does one B×N·N×N product per step with W_rec packed
    /// once (`PackedMatrix`), and the input drive and the readout of the same rows while they are
    /// in cache; it splits the trials between threads and allocates nothing.
    /// Private noise (σ > 0) is drawn from `RandomStream(seed: noiseSeed, purpose: .noise)`.
    public func run(_ batch: Batch, noiseSeed: UInt64 = 0) -> Trajectory {
        precondition(batch.inputSize == inputs, "batch has \(batch.inputSize) inputs, the model \(inputs)")
        let (T, B, N, I, O) = (batch.steps, batch.trials, units, inputs, outputs)
        let p = parameters
        // Every entry is written before it is read: block 0 from h0, blocks 1…T by the input
        // drive (zeros without inputs), the recurrence, φ and the readout.
        var a = [Double](uninitializedCount: (T + 1) * B * N)
        var r = [Double](uninitializedCount: (T + 1) * B * N)
        var y = [Double](uninitializedCount: T * B * O)
        let alpha = self.alpha, phi = activation
        var noise = RandomStream(seed: noiseSeed, purpose: .noise)
        let noiseScale = alpha.squareRoot() * noiseSD

        // W_rec, and W_in, packed once for the T steps; W_out is read row by row (`biornn_dot_rows`).
        let recurrent = PackedMatrix(p.wRec), input = I > 0 ? PackedMatrix(p.wIn) : nil
        a.withUnsafeMutableBufferPointer { ap in
            r.withUnsafeMutableBufferPointer { rp in
                let a = ap.baseAddress!, r = rp.baseAddress!
                for b in 0..<B { for j in 0..<N { a[b * N + j] = p.h0[j]; r[b * N + j] = phi(p.h0[j]) } }
                guard T > 0 else { return }
                y.withUnsafeMutableBufferPointer { yp in
                    batch.inputs.withUnsafeBufferPointer { xp in
                        p.wOut.storage.withUnsafeBufferPointer { wOut in
                            p.bRec.withUnsafeBufferPointer { bias in
                                let (y, x, wOut, bias) = (yp.baseAddress, xp.baseAddress, wOut.baseAddress, bias.baseAddress!)
                                // Every step of the given trials, all in cache: rows b of A_t, R_t, Y_t.
                                func recurrence(_ trials: Range<Int>, noise: UnsafeMutablePointer<RandomStream>?) {
                                    let offset = trials.lowerBound * N, rows = trials.count
                                    for t in 1...T {
                                        let cur = a + t * B * N + offset, prev = a + (t - 1) * B * N + offset
                                        // A_t ← X_t·W_inᵀ, then (1 − α)·A_{t−1} + α·(A_t + b_rec), then += α·R_{t−1}·W_recᵀ
                                        cur.update(repeating: 0, count: rows * N)
                                        input?.accumulate(rows: rows, alpha: 1, x! + ((t - 1) * B + trials.lowerBound) * I, ldr: I, into: cur, ldc: N)
                                        biornn_leak(prev, cur, bias, alpha, rows, N)
                                        recurrent.accumulate(rows: rows, alpha: alpha, r + (t - 1) * B * N + offset, ldr: N, into: cur, ldc: N)
                                        if let noise { for idx in 0..<(rows * N) { cur[idx] += noiseScale * noise.pointee.normal() } }
                                        phi.apply(cur, to: r + t * B * N + offset, count: rows * N)
                                        // Y_t = R_t·W_outᵀ + b_out
                                        guard O > 0, let y else { continue }
                                        let out = y + ((t - 1) * B + trials.lowerBound) * O
                                        for b in 0..<rows { for k in 0..<O { out[b * O + k] = p.bOut[k] } }
                                        biornn_dot_rows(rows, O, N, r + t * B * N + offset, N, wOut, N, out, O)
                                    }
                                }
                                // The trials are independent: with private noise one thread draws it in
                                // the order above for all trials; without, the trials are split between
                                // threads, each running every step on its own rows.
                                if noiseScale > 0 {
                                    recurrence(0..<B, noise: &noise)
                                } else {
                                    ThreadSplit.run(B, work: Double(T * B) * Double(N * N)) { recurrence($0, noise: nil) }
                                }
                            }
                        }
                    }
                }
            }
        }
        return Trajectory(steps: T, trials: B, units: N, outputs: O, a: a, r: r, y: y)
    }
}
