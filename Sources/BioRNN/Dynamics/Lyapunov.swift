import Foundation

/// How a Lyapunov estimate is run (<doc:LyapunovAnalysis>).
public struct LyapunovOptions: Sendable, Equatable {
    /// Steps run before measuring, so that the state reaches the attractor.
    public var transient = 500
    /// Steps measured.
    public var steps = 2000
    /// Re-orthonormalise (or renormalise) every q steps.
    public var qrEvery = 1
    /// Seeds of the initial state and of the initial orthonormal system (or perturbation).
    public var initialConditionSeed: UInt64 = 1
    public var orthonormalSeed: UInt64 = 1
    /// The measured steps are cut into this many blocks (at most one per step); the spread of
    /// the block estimates gives the standard error (NaN for a single step).
    public var blocks = 10
    /// Size of the twin trajectory's perturbation.
    public var twinSeparation = 1e-8

    public init(transient: Int = 500, steps: Int = 2000, qrEvery: Int = 1) {
        self.transient = transient
        self.steps = steps
        self.qrEvery = qrEvery
    }

    public func validate(dimension: Int, k: Int) throws {
        guard transient >= 0 && transient <= Self.maxSteps else { throw InputError(.transient, "must lie in 0…\(Self.maxSteps), got \(transient)") }
        guard steps >= 1 && steps <= Self.maxSteps else { throw InputError(.steps, "must lie in 1…\(Self.maxSteps), got \(steps)") }
        guard qrEvery >= 1 else { throw InputError(.qrEvery, "must be ≥ 1, got \(qrEvery)") }
        try Lyapunov.checkExponentCount(k, units: dimension)
        guard blocks >= 2 else { throw InputError(.blocks, "must be ≥ 2, got \(blocks)") }
    }

    /// The most steps (transient or measured) one estimate may run: 10⁸, about an hour for a
    /// single exponent of a 256-unit network, and far beyond where the standard error (∝ 1/√T)
    /// stops paying for the time.
    public static let maxSteps = 100_000_000

    /// The same options with both seeds set to `seed`.
    public func seeded(_ seed: UInt64) -> LyapunovOptions {
        var o = self
        o.initialConditionSeed = seed
        o.orthonormalSeed = seed
        return o
    }
}

/// One named set of measurement lengths per purpose, each with its reason.
extension LyapunovOptions {
    /// `biornn lyapunov`'s defaults: 500 transient steps (10 relaxation times 1/α down to
    /// α = 0.02) and 2000 measured ones, a standard error of about 0.003 per step on chaotic
    /// N = 64 networks.
    public static let command = LyapunovOptions(transient: 500, steps: 2000)

    /// A training run's measurements: 200 transient and 1000 measured steps (s.e. ≈ 0.005 for
    /// chaotic N = 64 networks). A run measures λ_max at every logged iteration, driven and
    /// autonomous, so these are shorter than a one-off measurement.
    public static let trainingRun = LyapunovOptions(transient: 200, steps: 1000)

    /// Judging a flossed network: 500 transient and 3000 measured steps, longer than any
    /// flossing window, so that the verdict is not the flossing loss's own noisy estimate.
    public static let flossingEvaluation = LyapunovOptions(transient: 500, steps: 3000)
}

/// Lyapunov exponents, natural log per step, sorted descending, each with a standard error
/// (the standard deviation of the per-block estimates over √blocks).
public struct LyapunovResult: Sendable, Equatable {
    public var exponents: [Double]
    public var standardErrors: [Double]
    /// Per-block estimates of each exponent (blocks × k), in exponent order.
    public var blockEstimates: [[Double]]
}

/// Lyapunov analysis by three independent routes (<doc:LyapunovAnalysis>).
public enum Lyapunov {
    /// The one check of a number of exponents k: 1 ≤ k ≤ N, the number of units (only k ≥ 1 while
    /// N is not known yet). `field` is the setting blamed: `k`, or `floss` for a flossing schedule.
    public static func checkExponentCount(_ k: Int, units: Int?, field: ConfigField = .k) throws {
        guard k >= 1 && k <= (units ?? .max) else {
            let range = units.map { "lie in 1…\($0) (the number of units)" } ?? "be ≥ 1"
            throw InputError(field, "\(field == .k ? "" : "k ")must \(range), got \(k)")
        }
    }

    /// The first k exponents by the QR method (Benettin et al. 1980; Shimada & Nagashima 1979):
    ///
    ///     Q_0 orthonormal (QR of a Gaussian N×k block);  V_t = J_t·Q_{t−1}
    ///     every q steps: V = Q·R (diag R > 0), accumulate log R_ii
    ///     λ_i = (1/T)·Σ log R_ii        (natural log per step)
    ///
    /// The block is kept as Qᵀ (one tangent vector per row) through the whole step: one product
    /// per step and, every q steps, CholeskyQR2 with its Householder fallback (``CholeskyQR2``),
    /// beside the state's step on a second thread when the factorisation keeps to one; no
    /// transposes and no allocation in the loop.
    /// `start` replaces the seeded initial state (before the transient) and Q_0 (n×k,
    /// orthonormal) — for comparisons with other implementations from the same point.
    public static func spectrum(of map: some DynamicalMap, k: Int, options: LyapunovOptions = LyapunovOptions(),
                                start: (state: [Double], basis: Matrix)? = nil, progress: StepProgress? = nil) throws -> LyapunovResult {
        try observedSpectrum(of: map, k: k, options: options, start: start, progress: progress).result
    }

    /// The same, calling `observe(Qᵀ)` after every re-orthonormalisation, and with the number of
    /// steps that fell back to Householder: for tests of the basis and of the fallback.
    public static func observedSpectrum(of map: some DynamicalMap, k: Int, options: LyapunovOptions = LyapunovOptions(),
                                        start: (state: [Double], basis: Matrix)? = nil, progress: StepProgress? = nil,
                                        observe: ((Matrix) -> Void)? = nil) throws -> (result: LyapunovResult, fallbacks: Int) {
        let n = map.dimension
        try options.validate(dimension: n, k: k)
        var (x, t) = settledState(map, options, from: start?.state, progress: progress)
        var q: Matrix
        if let basis = start?.basis {
            precondition(basis.rows == n && basis.cols == k, "start basis is \(basis.rows)×\(basis.cols), expected \(n)×\(k)")
            q = basis.transposed
        } else {
            var orng = RandomStream(seed: options.orthonormalSeed, purpose: .orthonormal)
            q = Matrix.randomNormal(rows: n, cols: k, sd: 1, using: &orng).qr.q.transposed
        }
        let qr = CholeskyQR2(dimension: n, count: k)
        var accumulator = BlockAccumulator(count: k, steps: options.steps, blocks: options.blocks)
        var logs = [Double](repeating: 0, count: k)
        // When the factorisation keeps to one thread (k = 32 at N = 256, not k = N), the state's
        // step runs on a second one meanwhile: they share nothing, and each does the same
        // operations wherever it runs. Only from N² = 2¹⁶ multiply-adds a step: below, handing
        // the step over costs more than it saves (<doc:Performance#Trajectory-steps>).
        let stepBeside = BLAS.threadCount > 1 && qr.runsOnOneThread && n * n >= 1 << 16
        for s in 0..<options.steps {
            map.applyJacobian(at: x, time: t, toRows: &q)
            let reorthonormalise = (s + 1) % options.qrEvery == 0 || s == options.steps - 1
            if reorthonormalise && stepBeside {
                let time = t
                ThreadSplit.parallel(2) { part in
                    if part == 0 { qr.orthonormalize(&q, logDiagonal: &logs) } else { map.step(&x, time: time) }
                }
            } else {
                map.step(&x, time: t)
                if reorthonormalise { qr.orthonormalize(&q, logDiagonal: &logs) }
            }
            if reorthonormalise {
                accumulator.add(step: s, logs)
                observe?(q)
            }
            t += 1
            progress?.step(t)
        }
        return (accumulator.result(sorted: true), qr.fallbacks)
    }

    /// λ_max from one tangent vector, renormalised every q steps: v ← J_t·v, λ = (1/T)·Σ log‖v‖.
    /// O(N²) per step.
    public static func maximalExponent(of map: some DynamicalMap, options: LyapunovOptions = LyapunovOptions(),
                                       progress: StepProgress? = nil) throws -> LyapunovResult {
        let n = map.dimension
        try options.validate(dimension: n, k: 1)
        var (x, t) = settledState(map, options, progress: progress)
        var orng = RandomStream(seed: options.orthonormalSeed, purpose: .orthonormal)
        var v = Matrix.randomNormal(rows: n, cols: 1, sd: 1, using: &orng)
        v = (1 / v.frobeniusNorm) * v
        var accumulator = BlockAccumulator(count: 1, steps: options.steps, blocks: options.blocks)
        for s in 0..<options.steps {
            map.applyJacobian(at: x, time: t, to: &v)
            map.step(&x, time: t)
            t += 1
            if (s + 1) % options.qrEvery == 0 || s == options.steps - 1 {
                let norm = v.frobeniusNorm
                for i in 0..<n { v.storage[i] /= norm }
                accumulator.add(step: s, [log(norm)])
            }
            progress?.step(t)
        }
        return accumulator.result(sorted: false)
    }

    /// λ_max from a perturbed twin trajectory, without any Jacobian: x' = x + ε·u, both advanced
    /// by f_t; every q steps d = ‖x' − x‖, accumulate log(d/ε), and pull x' back to distance ε
    /// along x' − x. Nonlinear effects bias the estimate by O(ε).
    public static func twinExponent(of map: some DynamicalMap, options: LyapunovOptions = LyapunovOptions(),
                                    progress: StepProgress? = nil) throws -> LyapunovResult {
        let n = map.dimension
        try options.validate(dimension: n, k: 1)
        var (x, t) = settledState(map, options, progress: progress)
        var orng = RandomStream(seed: options.orthonormalSeed, purpose: .orthonormal)
        let u = (0..<n).map { _ in orng.normal() }
        let eps = options.twinSeparation, un = euclideanNorm(u)
        var twin = (0..<n).map { x[$0] + eps * u[$0] / un }
        var accumulator = BlockAccumulator(count: 1, steps: options.steps, blocks: options.blocks)
        var diff = [Double](repeating: 0, count: n)
        for s in 0..<options.steps {
            map.step(&twin, time: t)
            map.step(&x, time: t)
            t += 1
            if (s + 1) % options.qrEvery == 0 || s == options.steps - 1 {
                for i in 0..<n { diff[i] = twin[i] - x[i] }
                let d = euclideanNorm(diff)
                for i in 0..<n { twin[i] = x[i] + eps * diff[i] / d }
                accumulator.add(step: s, [log(d / eps)])
            }
            progress?.step(t)
        }
        return accumulator.result(sorted: false)
    }

    /// The state after the transient, from the initial-condition stream, and the time reached.
    static func settledState(_ map: some DynamicalMap, _ options: LyapunovOptions, from state: [Double]? = nil,
                             progress: StepProgress? = nil) -> ([Double], Int) {
        var rng = RandomStream(seed: options.initialConditionSeed, purpose: .initialCondition)
        var x = state ?? map.initialState(using: &rng)
        for t in 0..<options.transient {
            map.step(&x, time: t)
            progress?.step(t + 1)
        }
        return (x, options.transient)
    }
}

/// Reports how many steps (transient and measured) an estimator has run, about every 1% of
/// `total`, to a callback that shows progress. Reporting reads nothing back, so results do not
/// depend on it.
public final class StepProgress {
    let total: Int
    let every: Int
    let report: (_ done: Int, _ total: Int) -> Void

    public init(total: Int, report: @escaping (_ done: Int, _ total: Int) -> Void) {
        self.total = total
        every = max(1, total / 100)
        self.report = report
    }

    @inline(__always) func step(_ done: Int) {
        if done % every == 0 { report(done, total) }
    }
}

/// Sums of per-step log growth, in total and per block of the measured steps.
struct BlockAccumulator {
    let count: Int, steps: Int, blocks: Int
    var total: [Double]
    var blockSums: [[Double]]
    var blockSteps: [Int]
    var lastStep = -1

    init(count: Int, steps: Int, blocks: Int) {
        (self.count, self.steps, self.blocks) = (count, steps, min(blocks, steps))
        total = Array(repeating: 0, count: count)
        blockSums = Array(repeating: Array(repeating: 0, count: count), count: blocks)
        blockSteps = Array(repeating: 0, count: blocks)
    }

    /// Growth logged at measured step `step`, covering the steps since the previous call.
    mutating func add(step: Int, _ logs: [Double]) {
        let block = min(step * blocks / steps, blocks - 1)
        for i in 0..<count { total[i] += logs[i]; blockSums[block][i] += logs[i] }
        blockSteps[block] += step - lastStep
        lastStep = step
    }

    /// λ_i = total/steps; s.e. = s.d. of the block estimates / √(blocks used).
    func result(sorted: Bool) -> LyapunovResult {
        let used = (0..<blocks).filter { blockSteps[$0] > 0 }
        let perBlock = used.map { b in (0..<count).map { blockSums[b][$0] / Double(blockSteps[b]) } }
        var exponents = total.map { $0 / Double(steps) }
        var errors = (0..<count).map { i -> Double in
            guard used.count >= 2 else { return .nan }
            let (_, sd) = meanAndSD(perBlock.map { $0[i] })
            return sd / Double(used.count).squareRoot()
        }
        var blocksOut = perBlock
        if sorted {
            let order = (0..<count).sorted { exponents[$0] > exponents[$1] }
            exponents = order.map { exponents[$0] }
            errors = order.map { errors[$0] }
            blocksOut = perBlock.map { row in order.map { row[$0] } }
        }
        return LyapunovResult(exponents: exponents, standardErrors: errors, blockEstimates: blocksOut)
    }
}

/// What users compute from a spectrum λ_1 ≥ … ≥ λ_k of an N-dimensional map (<doc:LyapunovAnalysis>),
/// each only when the k exponents measured determine it.
public struct SpectrumSummary: Sendable, Equatable {
    /// The Kaplan–Yorke (Lyapunov) dimension of the attractor,
    ///
    ///     D_KY = j + (λ_1 + … + λ_j) / |λ_{j+1}|,   j the largest index with λ_1 + … + λ_j ≥ 0,
    ///
    /// 0 when λ_1 < 0 (a stable fixed point or cycle), N when every partial sum is ≥ 0. nil when
    /// the partial sums of the k < N measured exponents are all ≥ 0: j + 1 lies beyond k.
    public let kaplanYorkeDimension: Double?
    /// The Kolmogorov–Sinai entropy rate, by Pesin's identity the sum of the positive exponents
    /// (nats per step). nil when λ_k > 0 and k < N: positive exponents may lie beyond k.
    public let entropyRate: Double?
    /// Why a value is missing, in words for the report (nil when both are known).
    public let note: String?

    public init(exponents λ: [Double], dimension n: Int) {
        precondition(!λ.isEmpty && λ.count <= n, "1 ≤ k ≤ N exponents")
        let complete = λ.count == n
        var sum = 0.0, dimension: Double? = nil
        for (i, l) in λ.enumerated() {
            if sum + l < 0 {
                dimension = Double(i) + sum / abs(l)   // j = i exponents kept, λ_{j+1} = l
                break
            }
            sum += l
        }
        if dimension == nil && complete { dimension = Double(n) }
        kaplanYorkeDimension = dimension
        let positivesCovered = complete || λ.last! <= 0
        entropyRate = positivesCovered ? λ.filter { $0 > 0 }.reduce(0, +) : nil
        var missing: [String] = []
        if dimension == nil { missing.append("the Kaplan–Yorke dimension needs more exponents (λ_1 + … + λ_\(λ.count) is still ≥ 0)") }
        if entropyRate == nil { missing.append("the entropy rate needs more exponents (λ_\(λ.count) is still positive)") }
        note = missing.isEmpty ? nil : "k = \(λ.count) of N = \(n): " + missing.joined(separator: "; ")
    }
}
